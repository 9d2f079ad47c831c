import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkIsolation } from '../verify/isolation';
import { fixture, located } from './support';

jest.setTimeout(120_000);

const defects = fixture('isolation-defects');
const M = 'force-app/main';

describe('isolation: each pattern deploys with core alone', () => {
  it('reports every reference into another pattern folder or into demo/, at its line', async () => {
    const result = await checkIsolation(defects);
    expect(result.ok).toBe(false);
    expect(located(result, defects)).toEqual([
      `${M}/alpha/lwc/alphaCard/alphaCard.html:2 isolation/cross-folder`, // <c-demo-only>: nothing may use demo/
      `${M}/beta/classes/BetaService.cls:9 isolation/cross-folder`, // 'callout:Alpha_API/…'
      `${M}/beta/classes/BetaService.cls:10 isolation/cross-folder`, // AlphaService.run()
      `${M}/beta/classes/BetaService.cls:12 isolation/cross-folder`, // FROM Alpha_Order__c
      `${M}/beta/classes/BetaService.cls:12 isolation/cross-folder`, // Amount__c
      `${M}/beta/lwc/betaCard/betaCard.html:2 isolation/cross-folder`,
      `${M}/beta/lwc/betaCard/betaCard.js:2 isolation/cross-folder`,
      `${M}/beta/lwc/betaCard/betaCard.js:3 isolation/cross-folder`,
      `${M}/beta/lwc/betaCard/betaCard.js:3 isolation/cross-folder`,
      `${M}/beta/lwc/betaCard/betaCard.js:4 isolation/cross-folder`,
      `${M}/beta/permissionsets/Beta_User.permissionset-meta.xml:8 isolation/cross-folder`,
      `${M}/beta/permissionsets/Beta_User.permissionset-meta.xml:14 isolation/cross-folder`,
      `${M}/beta/permissionsets/Beta_User.permissionset-meta.xml:14 isolation/cross-folder`,
      `${M}/core/classes/CoreUtil.cls:3 isolation/cross-folder` // core depends on a pattern
    ]);
    expect(result.findings[2]!.message).toBe(
      'beta/ refers to the Apex class AlphaService, defined only in alpha/: core + beta/ would not deploy on their own (move it to core/, or give beta/ its own)'
    );
  });

  it('passes the valid project-shaped fixture (a pattern using core, demo using all) and skips a project without core', async () => {
    const valid = await checkIsolation(fixture('modern-valid'));
    expect(valid.findings).toEqual([]);
    const clean = await checkIsolation(fixture('clean'));
    expect(clean.ok).toBe(true);
    expect(clean.notes[0]).toContain('nothing to check');
  });

  it('fails when a pattern starts using another pattern', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-isolation-'));
    try {
      fs.cpSync(fixture('modern-valid'), root, { recursive: true });
      const other = path.join(root, 'force-app/main/beta/lwc/betaView');
      fs.mkdirSync(other, { recursive: true });
      fs.writeFileSync(
        path.join(other, 'betaView.html'),
        '<template>\n  <c-order-list></c-order-list>\n</template>\n'
      );
      const result = await checkIsolation(root);
      expect(located(result, root)).toEqual([
        'force-app/main/beta/lwc/betaView/betaView.html:2 isolation/cross-folder'
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
