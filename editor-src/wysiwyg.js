// The WYSIWYG editor (Milkdown Crepe) over the body's <textarea data-avf-editor>: the
// volunteer sees formatted text, the textarea keeps the Markdown the form sends. Only the
// features volunteers need: headings, bold/italic, lists, links, quotes, images, tables.
// Lists are ProseMirror's own (Crepe's list-item feature redraws each item with a Vue
// component after a keystroke, and lost the next characters typed quickly).
import { CrepeBuilder } from '@milkdown/crepe/builder'
import { blockEdit } from '@milkdown/crepe/feature/block-edit'
import { cursor } from '@milkdown/crepe/feature/cursor'
import { linkTooltip } from '@milkdown/crepe/feature/link-tooltip'
import { placeholder } from '@milkdown/crepe/feature/placeholder'
import { table } from '@milkdown/crepe/feature/table'
import { toolbar } from '@milkdown/crepe/feature/toolbar'
import { toggleLinkCommand } from '@milkdown/kit/component/link-tooltip'
import { editorViewCtx } from '@milkdown/kit/core'
import { listenerCtx } from '@milkdown/kit/plugin/listener'
import {
  headingSchema,
  imageSchema,
  toggleEmphasisCommand,
  toggleStrongCommand,
  turnIntoTextCommand,
  wrapInBlockquoteCommand,
  wrapInBulletListCommand,
  wrapInHeadingCommand,
  wrapInOrderedListCommand,
} from '@milkdown/kit/preset/commonmark'
import { $view, callCommand, getMarkdown, insert } from '@milkdown/kit/utils'

// The buttons above the text: big, labelled in words, reachable with the keyboard.
const BUTTONS = [
  ['Gras', (ctx) => callCommand(toggleStrongCommand.key)(ctx)],
  ['Italique', (ctx) => callCommand(toggleEmphasisCommand.key)(ctx)],
  ['Intertitre', toggleHeading],
  ['Liste à puces', (ctx) => callCommand(wrapInBulletListCommand.key)(ctx)],
  ['Liste numérotée', (ctx) => callCommand(wrapInOrderedListCommand.key)(ctx)],
  ['Citation', (ctx) => callCommand(wrapInBlockquoteCommand.key)(ctx)],
  ['Lien', (ctx) => callCommand(toggleLinkCommand.key)(ctx)],
]

function toggleHeading(ctx) {
  const view = ctx.get(editorViewCtx)
  const inHeading = view.state.selection.$from.parent.type === headingSchema.type(ctx)
  return inHeading ? callCommand(turnIntoTextCommand.key)(ctx)
    : callCommand(wrapInHeadingCommand.key, 2)(ctx)
}

// Photos are written `../media/x.jpg` (relative to the post, as the build reads them);
// the editor shows them from the service, which serves the city's committed photos.
function imageView(photoBase) {
  return $view(imageSchema.node, () => (node) => {
    const image = document.createElement('img')
    const source = String(node.attrs.src || '')
    const media = source.match(/^(?:\.\.\/)?media\/([^/?#]+)$/)
    image.src = media && photoBase ? photoBase + media[1] : source
    image.alt = node.attrs.alt || ''
    image.className = 'avf-editor-image'
    return { dom: image, ignoreMutation: () => true }
  })
}

export async function mountEditor(textarea) {
  const holder = document.createElement('div')
  holder.className = 'avf-wysiwyg'
  const bar = document.createElement('div')
  bar.className = 'avf-wysiwyg-bar'
  bar.setAttribute('role', 'toolbar')
  bar.setAttribute('aria-label', 'Mise en forme du texte')
  const area = document.createElement('div')
  area.className = 'avf-wysiwyg-area'
  holder.append(bar, area)
  textarea.after(holder)

  const builder = new CrepeBuilder({ root: area, defaultValue: textarea.value })
  builder
    .addFeature(cursor)
    .addFeature(linkTooltip, { inputPlaceholder: "Collez l'adresse du lien…" })
    .addFeature(placeholder, { text: 'Écrivez votre texte ici…', mode: 'doc' })
    .addFeature(table)
    .addFeature(toolbar, {
      boldLabel: 'Gras', italicLabel: 'Italique', linkLabel: 'Lien',
      strikethroughLabel: 'Barré', codeLabel: 'Code',
    })
    .addFeature(blockEdit, {
      textGroup: {
        label: 'Texte', text: { label: 'Paragraphe' }, h1: null,
        h2: { label: 'Intertitre' }, h3: { label: 'Petit intertitre' }, h4: null, h5: null,
        h6: null, quote: { label: 'Citation' }, divider: { label: 'Séparateur' },
      },
      listGroup: {
        label: 'Listes', bulletList: { label: 'Liste à puces' },
        orderedList: { label: 'Liste numérotée' }, taskList: null,
      },
      advancedGroup: { label: 'Autres', image: null, codeBlock: null, math: null,
        table: { label: 'Tableau' } },
    })
  const editor = builder.editor
  editor.use(imageView(textarea.dataset.avfPhotoBase || ''))
  editor.config((ctx) => {
    ctx.get(listenerCtx).markdownUpdated((_ctx, markdown) => {
      if (textarea.value !== markdown) {
        textarea.value = markdown
        textarea.dispatchEvent(new Event('input', { bubbles: true }))
      }
    })
  })
  await builder.create()

  for (const [label, run] of BUTTONS) {
    const button = document.createElement('button')
    button.type = 'button'
    button.textContent = label
    button.addEventListener('click', () => {
      editor.action(run)
      editor.action((ctx) => ctx.get(editorViewCtx).focus())
    })
    bar.append(button)
  }
  // The textarea stays in the form (it carries the Markdown) but out of sight and of the
  // keyboard's way; its label now names the editable area.
  textarea.hidden = true
  textarea.style.display = 'none' // the theme styles every textarea as a block
  const editable = area.querySelector('[contenteditable]')
  if (editable) {
    editable.setAttribute('role', 'textbox')
    editable.setAttribute('aria-multiline', 'true')
    if (textarea.id) editable.setAttribute('aria-labelledby', labelId(textarea))
  }
  const sync = () => {
    textarea.value = editor.action(getMarkdown())
    textarea.dispatchEvent(new Event('input', { bubbles: true }))
  }
  return {
    insertMarkdown(markdown) {
      editor.action(insert(markdown))
      sync()
    },
    // A photo at the cursor (the node itself: its description stays its `alt`).
    insertImage(src, alt) {
      editor.action((ctx) => {
        const view = ctx.get(editorViewCtx)
        const image = imageSchema.type(ctx).create({ src, alt, title: '' })
        view.dispatch(view.state.tr.replaceSelectionWith(image).scrollIntoView())
      })
      sync()
    },
    setMarkdown(markdown) {
      editor.action((ctx) => {
        const view = ctx.get(editorViewCtx)
        view.dispatch(view.state.tr.delete(0, view.state.doc.content.size))
      })
      editor.action(insert(markdown))
      textarea.value = markdown
    },
  }
}

function labelId(textarea) {
  const label = document.querySelector(`label[for="${textarea.id}"]`)
  if (!label) return ''
  if (!label.id) label.id = `${textarea.id}-label`
  return label.id
}
