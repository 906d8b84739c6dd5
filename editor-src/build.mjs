// Bundles the editor's script and styles into one file each, named after their content
// (editor-<hash>.js, editor-<hash>.css) in avf/service/editor_static/build/, with
// manifest.json naming them: the service serves them with immutable caching.
// Run by ./run's node step whenever package-lock.json or editor-src/ changes.
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', 'avf', 'service', 'editor_static', 'build')

const result = await build({
  entryPoints: { editor: join(here, 'editor.js'), 'editor-style': join(here, 'editor.css') },
  bundle: true, minify: true, format: 'iife', target: ['es2020'], write: false,
  outdir: out, legalComments: 'eof', logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"', __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
  loader: { '.svg': 'dataurl', '.woff2': 'dataurl', '.woff': 'dataurl', '.ttf': 'dataurl' },
})
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const manifest = {}
for (const file of result.outputFiles) {
  const kind = file.path.endsWith('.css') ? 'css' : 'js'
  const hash = createHash('sha256').update(file.contents).digest('hex').slice(0, 16)
  const name = `editor-${hash}.${kind}`
  writeFileSync(join(out, name), file.contents)
  manifest[kind] = name
}
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
console.log(`editor bundle: ${readdirSync(out).join(', ')}`)
