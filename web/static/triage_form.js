// The triage form: a conditional field (data-shown-when) is shown only while its condition
// holds, e.g. the child-welfare question only for a person under 18. Without this script every
// field shows, and the server ignores an answer whose condition does not hold.
(function () {
  "use strict";
  var form = document.getElementById("triage-form");
  if (!form) {
    return;
  }
  var conditional = form.querySelectorAll("[data-shown-when]");

  function chosen(name) {
    var values = [];
    form.querySelectorAll('[name="' + name + '"]').forEach(function (control) {
      if ((control.type === "radio" || control.type === "checkbox") && !control.checked) {
        return;
      }
      values.push(control.value);
    });
    return values;
  }

  function update(loading) {
    conditional.forEach(function (element) {
      // When the page loads, a field with an error message stays in sight whatever its
      // condition, so the error summary's link leads somewhere.
      if (loading && element.classList.contains("has-error")) {
        return;
      }
      var wanted = element.getAttribute("data-shown-values").split(" ");
      var have = chosen(element.getAttribute("data-shown-when"));
      element.hidden = !have.some(function (value) {
        return wanted.indexOf(value) !== -1;
      });
    });
  }

  form.addEventListener("change", function () {
    update(false);
  });
  update(true);
})();
