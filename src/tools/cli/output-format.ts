/** The `-o` formats, apart from render.ts so parsing does not load the yaml package. */
export type OutputFormat = 'table' | 'json' | 'yaml';

export const OUTPUT_FORMATS_LIST: readonly OutputFormat[] = ['table', 'json', 'yaml'];
