// "Ajouter une photo": the photo and its description are sent on their own (the rest of
// the form stays on the page); the answer's Markdown goes into the text at the cursor, or
// the photo becomes the post's main photo (fields `image` and `image_alt`).
export function mountPhotos(form, writing, editorApi) {
  const box = writing.querySelector('[data-avf-photo]')
  if (!box) return
  const button = box.querySelector('[data-avf-photo-send]')
  const file = box.querySelector('input[type=file]')
  const alt = box.querySelector('[name=photo_alt]')
  const message = box.querySelector('[data-avf-photo-message]')
  const say = (text, problem) => {
    message.textContent = text
    message.setAttribute('role', problem ? 'alert' : 'status')
    message.classList.toggle('avf-problem', Boolean(problem))
  }
  button.addEventListener('click', async (event) => {
    event.preventDefault()
    if (!file.files.length) return say('Choisissez d’abord une photo sur votre appareil.', true)
    if (!alt.value.trim()) {
      alt.focus()
      return say('Décrivez la photo en quelques mots avant de l’envoyer.', true)
    }
    const use = box.querySelector('[name=photo_use]:checked')?.value || 'text'
    const data = new FormData()
    data.append('csrf_token', form.elements.csrf_token.value)
    data.append('photo_alt', alt.value)
    data.append('photo_use', use)
    data.append('path', form.elements.path?.value || '')
    data.append('photo', file.files[0])
    button.disabled = true
    say('Envoi de la photo…')
    try {
      const response = await fetch(button.getAttribute('formaction'), {
        method: 'POST', body: data, credentials: 'same-origin',
        headers: { Accept: 'application/json' },
      })
      const answer = await response.json().catch(() => ({}))
      if (!response.ok) return say(answer.message || 'La photo n’a pas pu être envoyée.', true)
      if (use === 'main') {
        const name = encodeURIComponent(answer.path.split('/').pop())
        const thumbnail = `/editeur/${writing.dataset.city}/photos/${name}?vignette=nouvelle`
        if (editorApi.picker) {
          editorApi.picker.choose(answer.path_from_post, answer.alt, thumbnail)
        } else if (form.elements.image) {
          form.elements.image.value = answer.path_from_post
        }
        form.elements.image_alt.value = answer.alt
        form.dispatchEvent(new Event('input', { bubbles: true }))
        say('La photo est enregistrée : c’est maintenant la photo principale de l’article.')
      } else if (editorApi.body) {
        editorApi.body.insertImage(answer.path_from_post, answer.alt)
        say('La photo est enregistrée et placée dans le texte.')
      } else {
        const body = form.elements.body
        body.value = `${body.value.trimEnd()}\n\n${answer.markdown}\n`
        body.dispatchEvent(new Event('input', { bubbles: true }))
        say('La photo est enregistrée et ajoutée à la fin du texte.')
      }
      file.value = ''
      alt.value = ''
    } catch {
      say('Pas de connexion : la photo n’a pas pu être envoyée. Réessayez plus tard.', true)
    } finally {
      button.disabled = false
    }
  })
}
