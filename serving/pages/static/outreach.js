// The only script of the pages (the content security policy forbids inline ones): the print
// button of the visit sheets. Every page works without it.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-button");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
});
