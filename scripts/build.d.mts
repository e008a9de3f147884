import type { BuildOptions, BuildResult, Metafile } from 'esbuild';
/** The esbuild options `npm run build` uses, writing into `outdir`. */
export function options(outdir: string): BuildOptions;
/** A third-party package whose code is in the bundle, with its licence files' text. */
export interface BundledPackage {
  name: string;
  version: string;
  license: string;
  files: { file: string; text: string }[];
}
/** The packages whose code is in the bundle, sorted by name then version. */
export function bundledPackages(metafile: Metafile, workdir?: string): BundledPackage[];
/** dist/licenses.txt's text for these packages. */
export function licensesText(packages: BundledPackage[]): string;
/** Builds dist/ into `outdir` as `npm run build` does: the bundle, then licenses.txt. */
export function bundle(outdir: string): Promise<BuildResult<{ metafile: true }>>;
