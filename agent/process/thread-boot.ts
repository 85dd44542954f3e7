// The code a worker thread starts with (new Worker(code, { eval: true })) to load one module as the program runs:
// compiled (dist/), the .js beside the caller, as it is; as TypeScript (tests, a checkout's tsx), a thread starts
// without its parent's loader, so it registers tsx first and loads the .ts. Both are absolute URLs, so the thread
// finds them whatever the working directory; tsx is resolved only in the second case (an installed copy has none).
export function threadBoot(callerUrl: string, module: string): string {
  if (callerUrl.endsWith('.ts')) {
    return `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL(`./${module}.ts`, callerUrl).href)}); })`;
  }
  return `import(${JSON.stringify(new URL(`./${module}.js`, callerUrl).href)})`;
}
