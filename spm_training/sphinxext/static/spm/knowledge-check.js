/* Knowledge checks grade themselves in the browser: no kernel, no network, no dependencies.
 *
 * The page holds, for every answer, its feedback in a hidden element marked data-correct="true" or
 * "false" (written at build time by spm_training.sphinxext.knowledge_check). Checking an answer copies
 * the chosen answer's feedback into the question's live region, so screen readers announce it.
 *
 * Once every question of a knowledge check has been checked, its score appears below it ("4 of 5 right
 * on the first try", counting each question's first checked answer) with the reader's next step: the
 * page's "Practise this" section where the chapter has one, else the next page of the book.
 *
 * Served by `spm serve` to a signed-in rep, the page also carries <meta name="spm-self-check"> (where to
 * post), <meta name="spm-xsrf"> (the token to send) and <meta name="spm-book"> (the book's base URL);
 * each checked answer is then posted there for the rep's progress. The static book has none of these
 * tags, so nothing leaves the browser.
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
    record(question, correct, !question.hasAttribute("data-first-try"));
    if (!question.hasAttribute("data-first-try")) {
      question.setAttribute("data-first-try", correct ? "right" : "wrong");
      score(question.closest(".spm-kc"));
    }
  }

  function meta(name) {
    var tag = document.querySelector('meta[name="' + name + '"]');
    return tag ? tag.getAttribute("content") : null;
  }

  // The page's path in the book: /services/spm/book/book/sdr/prospecting.html -> book/sdr/prospecting.
  function bookPage(base) {
    var path = window.location.pathname;
    if (base && path.indexOf(base) === 0) {
      path = path.slice(base.length);
    }
    path = decodeURIComponent(path).replace(/^\/+/, "").replace(/\.html$/, "");
    return path === "" || /\/$/.test(path) ? path + "index" : path;
  }

  function record(question, correct, firstTry) {
    var target = meta("spm-self-check");
    if (!target || !window.fetch) {
      return;
    }
    var answer = { page: bookPage(meta("spm-book")), question: question.id, correct: correct, first_try: firstTry };
    window.fetch(target, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(answer),
      headers: { "Content-Type": "application/json", "X-XSRFToken": meta("spm-xsrf") || "" }
    }).catch(function () { /* offline for a moment: the answer still shows; it is just not counted */ });
  }

  function nextStep() {
    var practise = document.getElementById("practise-this");
    if (practise) {
      return { href: "#practise-this", text: "Practise this",
               after: ": the interactive module and the graded assignment for this chapter." };
    }
    var next = document.querySelector("a.right-next");
    if (next) {
      var title = next.querySelector(".prev-next-title");
      return { href: next.getAttribute("href"), text: (title || next).textContent.trim(),
               after: ", the next chapter." };
    }
    return null;
  }

  function score(quiz) {
    var box = quiz ? quiz.querySelector(".spm-kc-score") : null;
    if (!box) {
      return;
    }
    var questions = quiz.querySelectorAll(".spm-kc-question");
    var answered = quiz.querySelectorAll(".spm-kc-question[data-first-try]");
    if (answered.length < questions.length) {
      return;
    }
    var right = quiz.querySelectorAll('.spm-kc-question[data-first-try="right"]').length;
    box.textContent = "";
    var result = document.createElement("strong");
    result.className = "spm-kc-result";
    result.textContent = right + " of " + questions.length + " right on the first try.";
    box.appendChild(result);
    box.appendChild(document.createTextNode(right === questions.length ? " Well done." :
      " Reread the sections behind the questions you missed."));
    var step = nextStep();
    if (step) {
      var line = document.createElement("span");
      line.className = "spm-kc-next";
      line.appendChild(document.createTextNode(" Next step: "));
      var link = document.createElement("a");
      link.href = step.href;
      link.textContent = step.text;
      line.appendChild(link);
      line.appendChild(document.createTextNode(step.after));
      box.appendChild(line);
    }
    box.hidden = false;
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
