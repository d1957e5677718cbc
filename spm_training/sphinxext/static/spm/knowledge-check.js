/* Knowledge checks grade themselves in the browser: no kernel, no network, no dependencies.
 *
 * The page holds, for every answer, its feedback in a hidden element marked data-correct="true" or
 * "false" (written at build time by spm_training.sphinxext.knowledge_check). Checking an answer copies
 * the chosen answer's feedback into the question's live region, so screen readers announce it.
 */
(function () {
  "use strict";

  var MARKS = ["spm-kc-chosen-correct", "spm-kc-chosen-incorrect"];

  function clear(question) {
    var feedback = question.querySelector(".spm-kc-feedback");
    feedback.textContent = "";
    feedback.classList.remove("spm-kc-is-correct", "spm-kc-is-incorrect", "spm-kc-is-empty");
    question.querySelectorAll(".spm-kc-option").forEach(function (option) {
      MARKS.forEach(function (mark) { option.classList.remove(mark); });
    });
  }

  function check(question) {
    clear(question);
    var feedback = question.querySelector(".spm-kc-feedback");
    var chosen = question.querySelector('input[type="radio"]:checked');
    if (!chosen) {
      feedback.classList.add("spm-kc-is-empty");
      feedback.textContent = "Choose an answer first, then check it.";
      return;
    }
    var option = chosen.closest(".spm-kc-option");
    var why = option.querySelector(".spm-kc-why");
    var correct = why.getAttribute("data-correct") === "true";
    var verdict = document.createElement("strong");
    verdict.className = "spm-kc-verdict";
    verdict.textContent = correct ? "Correct." : "Not quite.";
    feedback.appendChild(verdict);
    feedback.appendChild(document.createTextNode(" "));
    // The feedback was rendered from the chapter's own markup at build time; copy it as nodes.
    Array.prototype.forEach.call(why.childNodes, function (child) {
      feedback.appendChild(child.cloneNode(true));
    });
    if (!correct) {
      var retry = document.createElement("span");
      retry.className = "spm-kc-retry";
      retry.textContent = " Try another answer.";
      feedback.appendChild(retry);
    }
    feedback.classList.add(correct ? "spm-kc-is-correct" : "spm-kc-is-incorrect");
    option.classList.add(correct ? MARKS[0] : MARKS[1]);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".spm-kc-check") : null;
    if (button) {
      check(button.closest(".spm-kc-question"));
    }
  });

  // A new choice makes the old verdict stale: clear it until the learner checks again.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches('.spm-kc-question input[type="radio"]')) {
      clear(target.closest(".spm-kc-question"));
    }
  });
})();
