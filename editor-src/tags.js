// Tags as chips: `<input data-avf-tags>` (comma separated) becomes a list of chips, each
// with a "Retirer l'étiquette X" button, and a text field that adds one on Enter or comma.
// The original input stays in the form, hidden, holding the comma-separated value.
export function mountTags(input) {
  const box = document.createElement('div')
  box.className = 'avf-tags'
  const list = document.createElement('ul')
  list.className = 'avf-tags-list'
  list.setAttribute('aria-label', 'Étiquettes choisies')
  const field = document.createElement('input')
  field.type = 'text'
  field.className = 'avf-tags-field'
  field.setAttribute('autocomplete', 'off')
  field.setAttribute('enterkeyhint', 'done')
  const hint = document.createElement('p')
  hint.className = 'avf-hint'
  hint.id = `${input.id || 'tags'}-chips-hint`
  hint.textContent = 'Tapez une étiquette puis appuyez sur Entrée ou sur la virgule.'
  field.setAttribute('aria-describedby', hint.id)
  // The page's <label for="tags"> now names the field people type in.
  if (input.id) {
    field.id = input.id
    input.id = `${input.id}-value`
  }
  input.type = 'hidden'
  box.append(list, field, hint)
  input.after(box)

  const tags = () => input.value.split(',').map((tag) => tag.trim()).filter(Boolean)
  const write = (values) => {
    input.value = [...new Set(values)].join(', ')
    input.dispatchEvent(new Event('input', { bubbles: true }))
    draw()
  }
  const draw = () => {
    list.replaceChildren(...tags().map((tag) => {
      const item = document.createElement('li')
      item.className = 'avf-tag'
      const name = document.createElement('span')
      name.textContent = tag
      const remove = document.createElement('button')
      remove.type = 'button'
      remove.className = 'avf-tag-remove'
      remove.setAttribute('aria-label', `Retirer l'étiquette ${tag}`)
      remove.textContent = '×'
      remove.addEventListener('click', () => {
        write(tags().filter((other) => other !== tag))
        field.focus()
      })
      item.append(name, remove)
      return item
    }))
  }
  const add = () => {
    const typed = field.value.split(',').map((tag) => tag.trim()).filter(Boolean)
    field.value = ''
    if (typed.length) write([...tags(), ...typed])
  }
  field.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ',') {
      event.preventDefault()
      add()
    } else if (event.key === 'Backspace' && !field.value && tags().length) {
      write(tags().slice(0, -1))
    }
  })
  // Phones' keyboards may send no key events: a comma typed ends a tag too.
  field.addEventListener('input', () => { if (field.value.includes(',')) add() })
  field.addEventListener('blur', add)
  input.form?.addEventListener('submit', add)
  draw()
  return { refresh: draw }
}
