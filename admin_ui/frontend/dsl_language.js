// The DSL as CodeMirror 6 sees it, shared by the rule editor and the form designer (each bundles its own copy).
//
// Nothing about the DSL is hard-coded here: keywords (且 或 非 为空 …), functions with their Chinese aliases, the
// grammar's literal patterns (numbers with 万/亿/%/天, dates, both quote styles) and punctuation come from the server
// (admin_ui.views.dsl_vocabulary); the names an expression may use come from the page that hosts the editor.

import { StreamLanguage, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";

function anchored(source) {
  return new RegExp("^(?:" + source + ")", "u");
}

// names: [{name, type?, label?, indicator?}]; vocab: {functions, keywords, patterns, punctuation}.
export function compileVocabulary(vocab, names) {
  const styled = new Map();
  for (const item of names || []) {
    for (const segment of item.name.split(".")) styled.set(segment, "variableName");
  }
  for (const fn of vocab.functions) {
    for (const spelling of [fn.name, ...fn.aliases]) styled.set(spelling, "function");
  }
  for (const kw of vocab.keywords) {
    const style = ["TRUE", "FALSE", "NULL"].includes(kw.kind) ? "atom" : "keyword";
    styled.set(kw.word, style);
  }
  const regex = {};
  for (const [name, source] of Object.entries(vocab.patterns)) regex[name] = anchored(source);
  regex.PUNCT = anchored(vocab.punctuation.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|"));
  return {
    functions: vocab.functions,
    keywords: vocab.keywords,
    names: names || [],
    words: [...styled.entries()].sort((a, b) => b[0].length - a[0].length), // longest first
    regex,
  };
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;
// Full-width punctuation typed by Chinese input methods reads as its ASCII form (the lexer folds it the same way).
const FULLWIDTH = /^[\uFF01-\uFF5E【】、。×÷]/u;

// getCompiled(state) → the compiled vocabulary for that editor (or null while it is loading).
export function dslLanguage(getCompiled) {
  return StreamLanguage.define({
    name: "taizhang-dsl",
    startState: () => ({}),
    token(stream) {
      if (stream.eatSpace()) return null;
      const compiled = getCompiled();
      if (!compiled) {
        stream.skipToEnd();
        return null;
      }
      const re = compiled.regex;
      if (re.COMMENT && stream.match(re.COMMENT)) return "comment";
      if (re.DATE && stream.match(re.DATE)) return "number";
      if (re.NUMBER && stream.match(re.NUMBER)) return "number";
      if (re.STRING && stream.match(re.STRING)) return "string";
      if (re.QNAME && stream.match(re.QNAME)) return "variableName";
      if (re.COMP_OP && stream.match(re.COMP_OP)) return "operator";
      if (stream.match(re.PUNCT)) return "punctuation";
      if (stream.match(FULLWIDTH)) return "operator";
      const rest = stream.string.slice(stream.pos);
      for (const [word, style] of compiled.words) {
        if (!rest.startsWith(word)) continue;
        const isAscii = /^[\x00-\x7f]+$/.test(word);
        const after = rest.charAt(word.length);
        if (isAscii && after && WORD_CHAR.test(after)) continue; // `and` inside `android`
        stream.pos += word.length;
        return style;
      }
      if (rest.match(/^[A-Za-z_]/)) {
        stream.match(/^[\p{L}\p{N}_]+/u);
        return "invalid";
      }
      stream.next();
      return WORD_CHAR.test(stream.current()) ? "invalid" : null;
    },
    tokenTable: { function: tags.function(tags.variableName), invalid: tags.invalid },
  });
}

export const dslHighlight = syntaxHighlighting(
  HighlightStyle.define([
    { tag: tags.keyword, color: "#8250df", fontWeight: "600" },
    { tag: tags.atom, color: "#8250df" },
    { tag: tags.number, color: "#0550ae" },
    { tag: tags.string, color: "#0a3069" },
    { tag: tags.comment, color: "#6e7781", fontStyle: "italic" },
    { tag: tags.operator, color: "#cf222e" },
    { tag: tags.function(tags.variableName), color: "#953800", fontWeight: "600" },
    { tag: tags.variableName, color: "#116329" },
    { tag: tags.invalid, color: "#1f2328" },
  ]),
);

// A completion source over names, functions (every spelling) and keywords; text: {function, keyword} labels.
export function dslCompletions(getCompiled, text) {
  return (context) => {
    const compiled = getCompiled();
    if (!compiled) return null;
    const before = context.matchBefore(/[\p{L}\p{N}_.]+/u);
    if (!before && !context.explicit) return null;
    const options = [];
    for (const item of compiled.names) {
      options.push({
        label: item.name,
        detail: item.type,
        info: item.label && item.label !== item.name ? item.label : undefined,
        type: item.indicator ? "constant" : "variable",
        boost: 2,
      });
    }
    for (const fn of compiled.functions) {
      for (const spelling of [fn.name, ...fn.aliases]) {
        options.push({
          label: spelling,
          detail: `${text.function} ${fn.name}`,
          info: fn.doc,
          type: "function",
          apply: spelling + "(",
        });
      }
    }
    for (const kw of compiled.keywords) {
      options.push({ label: kw.word, detail: text.keyword, type: "keyword", boost: -1 });
    }
    return { from: before ? before.from : context.pos, options, validFor: /^[\p{L}\p{N}_.]*$/u };
  };
}

// The server counts columns in characters (code points); CodeMirror in UTF-16 units.
export function offsetOf(doc, line, column) {
  const lineNo = Math.min(Math.max(line, 1), doc.lines);
  const text = doc.line(lineNo);
  let pos = text.from;
  let chars = 1;
  for (const ch of text.text) {
    if (chars >= column) break;
    pos += ch.length;
    chars += 1;
  }
  return Math.min(pos, text.to);
}

// A server diagnostic ({line, column, end_line?, end_column?}) as a CodeMirror range on doc.
export function diagnosticRange(doc, d) {
  let from = offsetOf(doc, d.line, d.column);
  let to = offsetOf(doc, d.end_line || d.line, d.end_column || d.column + 1);
  if (to <= from) to = Math.min(from + 1, doc.length);
  if (from >= doc.length && doc.length > 0) from = doc.length - 1;
  return { from, to };
}
