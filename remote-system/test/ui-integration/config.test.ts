import { ConfigError } from '../../src/config';
import { DEFAULT_FRAME_ANCESTORS, loadUiIntegrationConfig } from '../../src/ui-integration/config';

describe('UI Integration settings', () => {
  it('has safe defaults and no secret unless one is given', () => {
    const config = loadUiIntegrationConfig({});
    expect(config.consumerSecret).toBeUndefined();
    expect(config.maxAgeSeconds).toBeUndefined();
    expect(config.maxRequestBytes).toBe(65_536);
    expect(config.frameAncestors).toEqual(DEFAULT_FRAME_ANCESTORS);
    expect(config.instanceHosts).toEqual(['*.salesforce.com', '*.force.com', '*.salesforce.mil']);
    expect(config.apiVersion).toBe('67.0');
  });

  it('reads the .env.example values as written', () => {
    const config = loadUiIntegrationConfig({
      UI_INTEGRATION_CONSUMER_SECRET: 'a-consumer-secret-of-some-length',
      UI_INTEGRATION_FRAME_ANCESTORS:
        'https://*.salesforce.com https://*.force.com https://*.salesforce-setup.com',
      UI_INTEGRATION_INSTANCE_HOSTS: '*.salesforce.com,*.force.com,*.salesforce.mil',
      UI_INTEGRATION_MAX_AGE_SECONDS: '600'
    });
    expect(config.consumerSecret).toBe('a-consumer-secret-of-some-length');
    expect(config.frameAncestors).toHaveLength(3);
    expect(config.maxAgeSeconds).toBe(600);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadUiIntegrationConfig({
        UI_INTEGRATION_CONSUMER_SECRET: 'short',
        UI_INTEGRATION_MAX_AGE_SECONDS: '5',
        UI_INTEGRATION_FRAME_ANCESTORS: 'http://*.salesforce.com *',
        UI_INTEGRATION_INSTANCE_HOSTS: 'https://acme.my.salesforce.com',
        SF_API_VERSION: '67'
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'UI_INTEGRATION_CONSUMER_SECRET',
      'UI_INTEGRATION_MAX_AGE_SECONDS',
      'UI_INTEGRATION_FRAME_ANCESTORS',
      'UI_INTEGRATION_INSTANCE_HOSTS',
      'SF_API_VERSION'
    ]) {
      expect(problems).toContain(name);
    }
    expect(problems).not.toContain('short');
  });
});
