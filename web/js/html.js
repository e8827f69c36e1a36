// Preact with htm, vendored (web/vendor, licences beside it): every page builds its DOM with
// `html` tagged templates, which insert values as text — ledger text is never parsed as HTML.
export {
  html, render, useState, useEffect, useRef, useMemo, useCallback,
} from '../vendor/htm-preact-3.1.1.module.js';
