// SqlEditor is CodeMirror 6 with its SQL language (MySQL dialect, which
// Spate's front end parses) and a linter that checks the script with
// POST /v1/validate as you type: the linter's delay is the debounce, and a
// SQL error is marked at its line and column.
import { useEffect, useRef } from 'preact/hooks';
import { EditorView, basicSetup } from 'codemirror';
import { Compartment } from '@codemirror/state';
import { MySQL, sql } from '@codemirror/lang-sql';
import { linter, lintGutter } from '@codemirror/lint';
import { analytics } from '../../api.js';

// validateDelay is how long typing must pause before the script is sent.
const validateDelay = 400;

// positionOf maps a 1-based line and column (in characters) to a range of
// doc covering the token there (or one character).
export function positionOf(doc, line, column) {
  const l = doc.line(Math.min(Math.max(1, line), doc.lines));
  // Columns count characters; CodeMirror counts UTF-16 units.
  const chars = Array.from(l.text);
  const col = Math.min(Math.max(1, column), chars.length + 1);
  const from = l.from + chars.slice(0, col - 1).join('').length;
  const rest = l.text.slice(from - l.from);
  const m = /^[A-Za-z0-9_$`'"]+/.exec(rest);
  const len = m ? m[0].length : Math.min(1, rest.length);
  return { from, to: from + len };
}

// SqlEditor shows value (replacing the document whenever value changes
// from outside: a template), reports edits with onChange(text) and each
// validation with onValidated({text, description} | {text, error}).
// schema ({stream: [columns]}) feeds completion.
export function SqlEditor({ value, onChange, onValidated, schema, label = 'SQL' }) {
  const host = useRef(null);
  const view = useRef(null);
  const lang = useRef(new Compartment());
  const cb = useRef({});
  cb.current = { onChange, onValidated };

  useEffect(() => {
    const validate = linter(
      async (v) => {
        const text = v.state.doc.toString();
        const report = (r) => {
          // A stale answer (the text changed since) is dropped.
          if (view.current && view.current.state.doc.toString() === text) cb.current.onValidated?.({ text, ...r });
        };
        if (!text.trim()) {
          report({ empty: true });
          return [];
        }
        try {
          const description = await analytics('POST', '/v1/validate', { sql: text });
          report({ description });
          return [];
        } catch (error) {
          report({ error });
          if (!error.line) return [];
          const { from, to } = positionOf(v.state.doc, error.line, error.column || 1);
          return [{ from, to, severity: 'error', source: 'Spate', message: error.message }];
        }
      },
      { delay: validateDelay },
    );
    view.current = new EditorView({
      parent: host.current,
      doc: value || '',
      extensions: [
        basicSetup,
        lang.current.of(sql({ dialect: MySQL, upperCaseKeywords: true })),
        lintGutter(),
        validate,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) cb.current.onChange?.(u.state.doc.toString());
        }),
      ],
    });
    return () => {
      view.current.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && value !== undefined && value !== v.state.doc.toString()) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  useEffect(() => {
    view.current?.dispatch({
      effects: lang.current.reconfigure(sql({ dialect: MySQL, upperCaseKeywords: true, schema: schema || {} })),
    });
  }, [JSON.stringify(schema || {})]);

  return <div class="sql-editor" ref={host} />;
}
