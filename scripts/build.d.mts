import type { BuildOptions } from 'esbuild';
/** The esbuild options `npm run build` uses, writing to `outfile`. */
export function options(outfile: string): BuildOptions;
