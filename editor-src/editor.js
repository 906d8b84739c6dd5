// The editor page's script (bundled by build.mjs into one file): WYSIWYG body, tag chips,
// autosave and photos, over the plain form, which works without it.
import { mountAutosave } from './autosave.js'
import { mountPhotos } from './photos.js'
import { mountPicker } from './picker.js'
import { mountTags } from './tags.js'
import { mountEditor } from './wysiwyg.js'

async function start() {
  const form = document.getElementById('avf-editor-form')
  const writing = document.getElementById('avf-writing')
  if (!form || !writing) return
  const api = {}
  const tags = form.querySelector('input[data-avf-tags]')
  if (tags) api.tags = mountTags(tags)
  const body = form.querySelector('textarea[data-avf-editor]')
  if (body) {
    body.dataset.avfPhotoBase = writing.dataset.photoBase || ''
    try {
      api.body = await mountEditor(body)
    } catch (error) {
      body.hidden = false // the plain textarea still works
      body.style.display = ''
      console.error('avf editor:', error)
    }
  }
  api.picker = mountPicker(form)
  mountPhotos(form, writing, api)
  mountAutosave(form, writing, api)
  document.documentElement.classList.add('avf-editor-ready')
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start)
} else {
  start()
}
