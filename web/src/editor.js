// The code editor: CodeMirror 6 mounted inside a shadow root.
//
// Security (CSP): CodeMirror adds its styles at run time. Into a document it would add <style>
// elements, which `style-src 'self'` refuses; into a shadow root it uses a constructed
// stylesheet (adoptedStyleSheets), which CSP does not govern, and its per-element styles are
// set through the CSSOM (element.style), which CSP allows too. So the page needs no
// 'unsafe-inline' for styles.
import { basicSetup } from 'codemirror';
import { EditorView, keymap } from '@codemirror/view';
import { Compartment, EditorState, Prec } from '@codemirror/state';
import { indentUnit } from '@codemirror/language';
import { python } from '@codemirror/lang-python';
import { javascript } from '@codemirror/lang-javascript';
import { go } from '@codemirror/lang-go';

const languages = {
  python: () => python(),
  javascript: () => javascript(),
  typescript: () => javascript({ typescript: true }),
  go: () => go(),
};

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '14px', backgroundColor: '#fff' },
  '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace', lineHeight: '1.5' },
  '.cm-content': { minHeight: '16em' },
  '&.cm-focused': { outline: '2px solid #2563eb' },
  '.cm-gutters': { backgroundColor: '#f6f7f9', color: '#6b7280', borderRight: '1px solid #e5e7eb' },
});

// Security (CSP): typed text that replaces a selection is left to the browser's editing by
// default, and Chromium then wraps it in a span with the replaced text's inline style (which
// the CSP blocks and reports). Applying such input through CodeMirror instead keeps the page
// free of inline styles; plain typing at a cursor and IME composition stay native.
const replaceSelectionOnInput = EditorView.domEventHandlers({
  beforeinput(event, view) {
    if (event.inputType !== 'insertText' || typeof event.data !== 'string' || view.composing) return false;
    const { main } = view.state.selection;
    if (main.empty) return false;
    event.preventDefault();
    const insert = () => view.state.update(view.state.replaceSelection(event.data), { userEvent: 'input.type', scrollIntoView: true });
    // The input handlers (e.g. closing brackets around a selection) get their say first.
    if (!view.state.facet(EditorView.inputHandler).some((f) => f(view, main.from, main.to, event.data, insert))) view.dispatch(insert());
    return true;
  },
});

// host: an element of the page; onRun: called on Ctrl+Enter / Cmd+Enter.
export function createEditor(host, { doc = '', language = 'python', onRun }) {
  const shadow = host.shadowRoot || host.attachShadow({ mode: 'open' });
  const parent = document.createElement('div');
  parent.className = 'editor-root';
  shadow.append(parent);
  const lang = new Compartment();
  const view = new EditorView({
    root: shadow,
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        Prec.highest(keymap.of([{ key: 'Mod-Enter', run: () => (onRun(), true) }])),
        replaceSelectionOnInput,
        basicSetup,
        indentUnit.of('    '),
        lang.of(languages[language]()),
        theme,
      ],
    }),
  });
  return {
    view,
    getCode: () => view.state.doc.toString(),
    setCode(code) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code } });
    },
    setLanguage(name) {
      view.dispatch({ effects: lang.reconfigure((languages[name] || languages.javascript)()) });
    },
    focus: () => view.focus(),
  };
}
