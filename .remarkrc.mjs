// remark-cli settings for a hand run (`npx remark --quiet --frail .`): the same link check `npm test` runs
// (scripts/verify/docs.ts passes its own settings, so this file cannot weaken the gate).
import remarkValidateLinks from 'remark-validate-links';

export default {
  // repository: false: check relative links and anchors only; nothing is fetched, no git remote is needed
  plugins: [[remarkValidateLinks, { repository: false }]]
};
