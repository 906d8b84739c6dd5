// The main photo's choice (fieldset#photo, _photo_choice.html) over the plain radio
// buttons, which work without it: the "Photo choisie" box follows the choice, a photo's
// known description fills an empty description field, « Voir toutes les photos » loads
// them in place (the form is not sent), and a photo just sent as "photo principale" is
// added to the grid and chosen.
export function mountPicker(form) {
  const box = form.querySelector('#photo')
  const grid = box?.querySelector('[data-avf-photo-grid]')
  if (!grid) return null
  const current = box.querySelector('[data-avf-photo-current]')
  const alt = form.elements.image_alt
  let known = '' // the description the last chosen photo brought with it

  const summary = box.querySelector('[data-avf-photo-choice] > summary')
  const showChosen = (radio) => {
    if (summary) summary.textContent = radio.value ? 'Changer de photo' : 'Choisir une photo'
    if (!current) return
    const image = radio.closest('li')?.querySelector('img')
    const words = radio.closest('li')?.querySelector('span')?.textContent || ''
    current.replaceChildren()
    const text = document.createElement('p')
    if (!radio.value) {
      text.textContent = 'Pas de photo.'
    } else {
      if (image) {
        const copy = image.cloneNode()
        copy.alt = ''
        copy.removeAttribute('loading')
        current.append(copy)
      }
      const strong = document.createElement('strong')
      strong.textContent = 'Photo choisie'
      text.append(strong, ` (${words})`)
    }
    current.append(text)
  }
  const chosen = (radio) => {
    showChosen(radio)
    const description = radio.dataset.description || ''
    if (alt && (!alt.value.trim() || alt.value === known)) alt.value = description
    known = description
  }
  grid.addEventListener('change', (event) => {
    if (event.target.name === 'image') chosen(event.target)
  })

  const more = box.querySelector('[data-avf-all-photos]')
  form.addEventListener('submit', async (event) => {
    if (!more || event.submitter !== more) return
    event.preventDefault()
    // Enter in a text field "clicks" the form's first button, which may be this one.
    if (document.activeElement !== more) return
    more.disabled = true
    try {
      const url = new URL(window.location.href)
      url.searchParams.set('photos', 'toutes')
      url.hash = ''
      const response = await fetch(url, { credentials: 'same-origin' })
      const page = new DOMParser().parseFromString(await response.text(), 'text/html')
      const have = new Set([...grid.querySelectorAll('input[name=image]')].map((r) => r.value))
      let number = grid.querySelectorAll('li').length
      for (const item of page.querySelectorAll('[data-avf-photo-grid] li')) {
        const radio = item.querySelector('input[name=image]')
        if (!radio || have.has(radio.value)) continue
        number += 1
        renumber(item, `image-plus-${number}`)
        radio.checked = false
        grid.append(document.adoptNode(item))
      }
      more.closest('p')?.remove()
    } catch {
      more.disabled = false
    }
  })

  return {
    // Choose `value` ("../media/x.jpg"), adding it to the grid when it is not there (a
    // photo just sent, or an autosaved choice older than the newest two dozen).
    choose(value, description = '', thumbnail = '') {
      let radio = [...grid.querySelectorAll('input[name=image]')].find((r) => r.value === value)
      if (!radio && value) {
        const item = document.createElement('li')
        radio = document.createElement('input')
        radio.type = 'radio'
        radio.name = 'image'
        radio.value = value
        radio.dataset.description = description
        radio.id = `image-nouvelle-${grid.children.length + 1}`
        const label = document.createElement('label')
        label.htmlFor = radio.id
        const words = document.createElement('span')
        words.textContent = description || value.split('/').pop()
        if (thumbnail) {
          const image = document.createElement('img')
          Object.assign(image, { src: thumbnail, width: 320, height: 240, alt: '' })
          label.append(image)
        }
        label.append(words)
        item.append(radio, label)
        grid.children[0] ? grid.children[0].after(item) : grid.append(item)
      }
      if (!radio) return
      radio.checked = true
      known = description || radio.dataset.description || ''
      showChosen(radio)
    },
  }
}

function renumber(item, id) {
  const radio = item.querySelector('input')
  const label = item.querySelector('label')
  radio.id = id
  if (label) label.htmlFor = id
}
