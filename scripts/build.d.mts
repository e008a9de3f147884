import type { BuildOptions } from 'esbuild';
/** The esbuild options `npm run build` uses, writing into `outdir`. */
export function options(outdir: string): BuildOptions;
