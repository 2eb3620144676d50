// Owns the adapter to the maintained rule set for common cloud and SaaS tokens (secretlint's recommended preset:
// AWS, GCP, GitHub, GitLab, Slack, npm, OpenAI, private keys, basic-auth URLs …): runs it on one text and returns
// masked hits. The preset is loaded on first use so commands that never scan do not pay for it.
import type { RuleHit } from './rules.js';

type LintSource = typeof import('@secretlint/core').lintSource;
let loaded: Promise<{ lintSource: LintSource; preset: unknown }> | null = null;

function load(): Promise<{ lintSource: LintSource; preset: unknown }> {
  loaded ??= (async () => {
    const [{ lintSource }, { creator }] = await Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]);
    return { lintSource, preset: creator };
  })();
  return loaded;
}

const PRESET_ID = '@secretlint/secretlint-rule-preset-recommend';

/** `@secretlint/secretlint-rule-github` → `secretlint/github`. */
function shortRuleId(id: string): string {
  return id.replace(/^@secretlint\/secretlint-rule-/, 'secretlint/');
}

/** Runs the preset over a text; messages are masked by secretlint and stripped of the masked value. */
export async function presetHits(filePath: string, content: string): Promise<RuleHit[]> {
  const { lintSource, preset } = await load();
  const result = await lintSource({
    source: { filePath, content, contentType: 'text' },
    options: { maskSecrets: true, config: { rules: [{ id: PRESET_ID, rule: preset as never }] } },
  });
  return result.messages.map((m) => ({
    rule: shortRuleId(m.ruleId),
    index: m.range[0],
    message: m.message.replace(/\(\*+\)/g, '').replace(/:?\s*\*{3,}.*$/s, '').trim(),
  }));
}
