// Autosave: a few seconds after a change, when the page is hidden and when it is left, the
// form (Markdown body included) is posted to /editeur/<ville>/autosauvegarde; a copy is
// kept on the device (localStorage) for when the network is down. When the page opens with
// a version newer than the saved file (from the server, or only on this device), a banner
// offers to take it back.
const QUIET_MS = 3000 // after the last keystroke
const LONGEST_MS = 15000 // at most this long between saves while typing on and on
const KEEPALIVE_MAX = 60000 // bytes: browsers refuse larger `keepalive` requests

export function mountAutosave(form, writing, editorApi) {
  const url = writing.dataset.autosaveUrl
  const status = writing.querySelector('[data-avf-autosave-status]')
  const key = `avf-autosave:${writing.dataset.city}:${writing.dataset.document}`
  let timer = null
  let firstChange = 0
  let dirty = false
  let leaving = false

  const values = () => {
    const key = form.elements.autosave_key
    if (key && !key.value) key.value = randomKey() // a new text: its row until it is saved
    const params = new URLSearchParams()
    for (const [name, value] of new FormData(form)) {
      if (typeof value === 'string' && name !== 'action' && !name.startsWith('photo')) {
        params.append(name, value)
      }
    }
    return params
  }
  const comparable = (params) => {
    const copy = new URLSearchParams(params)
    copy.delete('csrf_token')
    return copy.toString()
  }
  const say = (text) => { if (status) status.textContent = text }
  const keepLocal = (params) => {
    try {
      localStorage.setItem(key, JSON.stringify({
        values: comparable(params), savedAt: Date.now(), base: writing.dataset.base || '',
      }))
    } catch { /* storage full or refused: the server copy is all there is */ }
  }
  const readLocal = () => {
    try { return JSON.parse(localStorage.getItem(key) || 'null') } catch { return null }
  }
  const forgetLocal = () => { try { localStorage.removeItem(key) } catch { /* nothing kept */ } }

  async function save(keepalive = false) {
    clearTimeout(timer)
    timer = null
    if (!dirty) return
    dirty = false
    firstChange = 0
    const params = values()
    keepLocal(params)
    const body = params.toString()
    try {
      const response = await fetch(url, {
        method: 'POST', body, credentials: 'same-origin',
        keepalive: keepalive && body.length < KEEPALIVE_MAX,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json' },
      })
      const answer = await response.json().catch(() => ({}))
      if (response.ok && answer.saved) {
        say(`Enregistré automatiquement à ${answer.time}`)
      } else {
        say(answer.message || 'Hors connexion : gardé sur cet appareil')
      }
    } catch {
      say('Hors connexion : gardé sur cet appareil')
    }
  }

  const changed = () => {
    if (leaving) return
    dirty = true
    keepLocal(values())
    const now = Date.now()
    firstChange = firstChange || now
    clearTimeout(timer)
    const wait = Math.max(0, Math.min(QUIET_MS, firstChange + LONGEST_MS - now))
    timer = setTimeout(() => save(), wait)
  }
  form.addEventListener('input', changed)
  form.addEventListener('change', changed)
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') save(true)
  })
  window.addEventListener('pagehide', () => save(true))
  // A real submit carries the text itself: nothing to autosave after it. The device's
  // copy goes; the server's copy goes when the save is committed.
  form.addEventListener('submit', (event) => {
    const target = event.submitter?.getAttribute('formtarget')
    if (target === '_blank' || event.submitter?.dataset.avfKeepDraft !== undefined) return
    leaving = true
    clearTimeout(timer)
    forgetLocal()
  })
  window.addEventListener('online', () => { if (readLocal()) { dirty = true; save() } })

  offerRecovery(form, writing, editorApi, readLocal, forgetLocal, comparable(values()))
}

function offerRecovery(form, writing, editorApi, readLocal, forgetLocal, current) {
  const banner = writing.querySelector('[data-avf-autosave-banner]')
  if (!banner) return
  const fromServer = readJson(banner.querySelector('[data-avf-autosave-values]'))
  const local = readLocal()
  const committedAt = Number(writing.dataset.committedAt || 0)
  let offer = null
  if (fromServer) {
    offer = { values: new URLSearchParams(fromServer.values), when: fromServer.when }
    if (fromServer.key) offer.values.set('autosave_key', fromServer.key)
  }
  if (local && local.values !== current && (local.base || '') === (writing.dataset.base || '')
      && local.savedAt > committedAt && (!offer || local.savedAt > offer.when)) {
    offer = { values: new URLSearchParams(local.values), when: local.savedAt }
  }
  if (!offer || offer.values.toString() === current) return
  const label = banner.querySelector('[data-avf-autosave-when]')
  if (label) label.textContent = frenchMoment(new Date(offer.when))
  form.prepend(banner) // seen first, above the title: not at the end of a long form
  banner.hidden = false
  banner.querySelector('[data-avf-resume]')?.addEventListener('click', () => {
    fill(form, offer.values, editorApi)
    banner.hidden = true
    form.dispatchEvent(new Event('input', { bubbles: true }))
  })
  banner.querySelector('[data-avf-discard]')?.addEventListener('click', async (event) => {
    event.preventDefault()
    forgetLocal()
    banner.hidden = true
    const params = new URLSearchParams()
    for (const name of ['csrf_token', 'path', 'autosave_key']) {
      params.append(name, form.elements[name]?.value || '')
    }
    await fetch(writing.dataset.discardUrl, {
      method: 'POST', body: params.toString(), credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json' },
    }).catch(() => {})
  })
}

function fill(form, values, editorApi) {
  const names = new Set(values.keys())
  if (values.get('autosave_key') && form.elements.autosave_key && !form.elements.path?.value) {
    form.elements.autosave_key.value = values.get('autosave_key')
  }
  for (const element of form.elements) {
    if (!element.name || ['csrf_token', 'base', 'path', 'action', 'kind', 'autosave_key']
      .includes(element.name)
        || element.name.startsWith('photo')) continue
    if (element.type === 'checkbox') {
      element.checked = values.getAll(element.name).includes(element.value)
    } else if (element.type === 'radio') {
      element.checked = values.get(element.name) === element.value
    } else if (names.has(element.name) && element.tagName !== 'BUTTON') {
      element.value = values.get(element.name)
    }
  }
  if (editorApi.body) editorApi.body.setMarkdown(values.get('body') || '')
  editorApi.tags?.refresh()
  // A photo chosen then, older than the newest ones the grid shows: put it back in.
  editorApi.picker?.choose(values.get('image') || '')
}

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(18))
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_')
}

function readJson(script) {
  try { return script ? JSON.parse(script.textContent) : null } catch { return null }
}

const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août',
  'septembre', 'octobre', 'novembre', 'décembre']

export function frenchMoment(date) {
  const minutes = String(date.getMinutes()).padStart(2, '0')
  return `${date.getDate()} ${MONTHS[date.getMonth()]} à ${date.getHours()} h ${minutes}`
}
