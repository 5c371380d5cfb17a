/** Whether `unitDir`/dist holds JavaScript compiled from the current `unitDir`/src. */
export function compiledIsFresh(unitDir: string, markerFile?: string): boolean;
/** Register tsx (once) so compiled code can import TypeScript; `@switchboard/*` resolve through `workspaceMap`. */
export function enableTypeScript(workspaceMap: Record<string, string>): Promise<void>;
/** Load core/dist/bundle/main-cjs.cjs with V8's code cache (see compiled.js); its exports. */
export function loadCachedBundle(file: string, options?: { writeBootCache?: boolean }): { modules: Record<string, Record<string, unknown>> };
/** Run the bundle's module code once and write its `.build.cache`. */
export function writeBuildCache(file: string): void;
