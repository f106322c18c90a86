// MathJax 2 settings for the Markdown pages (pymdownx.arithmatex writes \( \) and \[ \] inside
// span/div.arithmatex). A notebook page loads MathJax itself, earlier in the page, with its own settings:
// then window.MathJax already exists and must be left alone.
if (!window.MathJax) {
  window.MathJax = {
    tex2jax: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true,
              processClass: "arithmatex", ignoreClass: ".*"},
    messageStyle: "none",
  };
}
