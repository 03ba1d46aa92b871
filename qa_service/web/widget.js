/*
 * OKPAY help chat widget. Embed with one tag:
 *
 *   <script src="https://HOST/widget.js" defer></script>
 *
 * Optional attributes on that tag: data-api (service origin, default: where this file came
 * from), data-lang ("zh" or "en", default: the browser's language), data-open ("true" opens
 * the panel at once). The widget lives in a shadow root so the host page's CSS cannot break it.
 * Every piece of text is set with textContent, never parsed as HTML.
 * The page can call window.OKPAYHelp.open() and window.OKPAYHelp.ask("question").
 */
(function () {
  "use strict";
  if (window.OKPAYHelp) return;

  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var base = data.api || (script && script.src ? new URL(script.src, location.href).origin : location.origin);
  base = base.replace(/\/+$/, "");
  var browserLang = (navigator.languages && navigator.languages[0]) || navigator.language || "zh";
  var lang = data.lang === "en" || data.lang === "zh" ? data.lang : /^zh\b/i.test(browserLang) ? "zh" : "en";

  var STRINGS = {
    zh: {
      launcher: "在线帮助",
      title: "OKPAY 在线帮助",
      subtitle: "常见问题即时解答 · 可转人工客服",
      close: "关闭",
      inputLabel: "输入您的问题",
      placeholder: "请输入您的问题，例如：忘记密码怎么办？",
      send: "发送",
      welcome: "您好！我可以解答 OKPAY 账户、支付、提现和安全方面的常见问题。请问有什么可以帮您？",
      suggestions: ["忘记密码怎么办？", "提现手续费是多少？", "怎么联系人工客服？"],
      suggestionsLabel: "常见问题",
      you: "您",
      bot: "OKPAY 帮助",
      thinking: "正在查找答案…",
      source: "来源：",
      human: "联系人工客服",
      humanNote: "（在新窗口打开）",
      helpful: "这个回答有帮助吗？",
      yes: "有帮助",
      no: "没帮助",
      thanks: "感谢您的反馈！",
      thanksNo: "感谢反馈，我们会改进这个回答。",
      feedbackFailed: "反馈未能提交，请稍后再试。",
      networkError: "网络连接异常，请稍后重试。",
      busy: "咨询人数较多，请稍候片刻再试。",
      badInput: "请输入 1 到 1000 个字的问题。",
      serverError: "服务暂时不可用，请稍后重试。",
      privacy: "请勿输入银行卡号、密码、验证码等敏感信息。",
      related: "详细了解：",
      seeAlso: "相关问题：",
      more: "查看本条的其余内容",
      less: "收起",
      original: "查看原文",
      translated: "查看译文",
      inLang: { en: "（以下回答为英文）" },
    },
    en: {
      launcher: "Help",
      title: "OKPAY Help",
      subtitle: "Instant FAQ answers · a human when you need one",
      close: "Close",
      inputLabel: "Type your question",
      placeholder: "Ask a question, e.g. I forgot my password",
      send: "Send",
      welcome: "Hello! I can answer common questions about OKPAY accounts, payments, withdrawals and security. How can I help?",
      suggestions: ["I forgot my password", "How much is the withdrawal fee?", "How do I reach a human agent?"],
      suggestionsLabel: "Common questions",
      you: "You",
      bot: "OKPAY Help",
      thinking: "Looking for an answer…",
      source: "Source: ",
      human: "Contact a human agent",
      humanNote: " (opens in a new window)",
      helpful: "Was this helpful?",
      yes: "Yes",
      no: "No",
      thanks: "Thanks for your feedback!",
      thanksNo: "Thanks, we will improve this answer.",
      feedbackFailed: "Feedback could not be sent. Please try again later.",
      networkError: "Network problem. Please try again.",
      busy: "We are busy right now. Please try again in a moment.",
      badInput: "Please type a question of 1 to 1000 characters.",
      serverError: "The service is unavailable right now. Please try again later.",
      privacy: "Never type card numbers, passwords or verification codes here.",
      related: "More on this:",
      seeAlso: "Related question:",
      more: "Show the rest of this answer",
      less: "Show less",
      original: "Show the original",
      translated: "Show the translation",
      inLang: { zh: "This answer is in Chinese." },
    },
  };
  var T = STRINGS[lang];
  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    send: "M3 11.5 21 3l-8.5 18-2.2-7.3L3 11.5z",
    close: "M6 6l12 12M18 6 6 18",
    up: "M7 11v9H4v-9h3zm2 9h8.5a2 2 0 0 0 2-1.6l1.3-6.5A2 2 0 0 0 18.8 10H14l.8-4a1.8 1.8 0 0 0-3.3-1.2L9 10v10z",
    down: "M17 13V4h3v9h-3zm-2-9H6.5a2 2 0 0 0-2 1.6l-1.3 6.5A2 2 0 0 0 5.2 14H10l-.8 4a1.8 1.8 0 0 0 3.3 1.2L15 14V4z",
    person: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8a7 7 0 0 1 14 0H5z",
  };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        node.setAttribute(k, attrs[k]);
      });
    }
    if (text != null) node.textContent = String(text);
    return node;
  }

  function icon(name, cls) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "qa-icon " + (cls || ""));
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function safeUrl(url) {
    // The link comes from the server's settings; still, only web links become an href.
    try {
      var u = new URL(String(url), location.href);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  // Shadow root -------------------------------------------------------------------------
  var host = el("div", { id: "okpay-help-widget" });
  var shadow = host.attachShadow({ mode: "open" });
  var css = el("link", { rel: "stylesheet", href: base + "/static/widget.css" });
  var root = el("div", { class: "qa-root", lang: lang === "zh" ? "zh-CN" : "en" });
  root.style.visibility = "hidden"; // until the stylesheet is in, to avoid a flash of raw markup
  css.addEventListener("load", function () {
    root.style.visibility = "";
  });
  css.addEventListener("error", function () {
    root.style.visibility = "";
  });
  shadow.appendChild(css);
  shadow.appendChild(root);

  var launcher = el("button", {
    type: "button",
    class: "qa-launcher",
    "data-testid": "qa-launcher",
    "aria-expanded": "false",
    "aria-controls": "qa-panel",
  });
  launcher.appendChild(icon("chat"));
  launcher.appendChild(el("span", null, T.launcher));

  var panel = el("section", { id: "qa-panel", class: "qa-panel", role: "dialog", "aria-label": T.title });
  panel.hidden = true;

  var header = el("header", { class: "qa-header" });
  var brand = el("div", { class: "qa-brand" });
  brand.appendChild(el("span", { class: "qa-logo", "aria-hidden": "true" }, "OK"));
  var titles = el("div");
  titles.appendChild(el("h2", { class: "qa-title" }, T.title));
  var status = el("p", { class: "qa-subtitle" });
  status.appendChild(el("span", { class: "qa-dot", "aria-hidden": "true" }));
  status.appendChild(document.createTextNode(T.subtitle));
  titles.appendChild(status);
  brand.appendChild(titles);
  var closeBtn = el("button", { type: "button", class: "qa-close", "aria-label": T.close, title: T.close });
  closeBtn.appendChild(icon("close", "qa-stroke"));
  header.appendChild(brand);
  header.appendChild(closeBtn);

  var logEl = el("div", {
    class: "qa-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": T.title,
    "data-testid": "qa-log",
    tabindex: "0",
  });

  var form = el("form", { class: "qa-form", novalidate: "" });
  var label = el("label", { for: "qa-input", class: "qa-sr-only" }, T.inputLabel);
  var input = el("input", {
    id: "qa-input",
    type: "text",
    class: "qa-input",
    "data-testid": "qa-input",
    placeholder: T.placeholder,
    maxlength: "1000",
    autocomplete: "off",
    enterkeyhint: "send",
  });
  var send = el("button", { type: "submit", class: "qa-send", "data-testid": "qa-send", "aria-label": T.send, title: T.send });
  send.appendChild(icon("send"));
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  var privacy = el("p", { class: "qa-privacy" }, T.privacy);

  panel.appendChild(header);
  panel.appendChild(logEl);
  panel.appendChild(form);
  panel.appendChild(privacy);
  root.appendChild(panel);
  root.appendChild(launcher);

  // Messages ----------------------------------------------------------------------------
  function scrollDown() {
    logEl.scrollTop = logEl.scrollHeight;
  }

  // A long reply is shown from its first line, a short one with everything below it.
  function reveal(row) {
    var bottom = logEl.scrollHeight - logEl.clientHeight;
    logEl.scrollTop = Math.max(0, Math.min(row.offsetTop - 12, bottom));
  }

  function addRow(kind, node) {
    var row = el("div", { class: "qa-row qa-row-" + kind });
    if (kind === "bot") {
      row.appendChild(el("span", { class: "qa-avatar", "aria-hidden": "true" }, "OK"));
    }
    row.appendChild(node);
    logEl.appendChild(row);
    scrollDown();
    return row;
  }

  function addUser(text) {
    var bubble = el("div", { class: "qa-bubble qa-user" });
    bubble.appendChild(el("span", { class: "qa-sr-only" }, T.you + ": "));
    bubble.appendChild(el("p", { class: "qa-text" }, text));
    addRow("user", bubble);
  }

  function addWelcome() {
    var bubble = el("div", { class: "qa-bubble qa-bot" });
    bubble.appendChild(el("p", { class: "qa-text" }, T.welcome));
    var chips = el("div", { class: "qa-chips", role: "group", "aria-label": T.suggestionsLabel });
    T.suggestions.forEach(function (q) {
      var chip = el("button", { type: "button", class: "qa-chip" }, q);
      chip.addEventListener("click", function () {
        ask(q);
      });
      chips.appendChild(chip);
    });
    bubble.appendChild(chips);
    addRow("bot", bubble);
  }

  function addThinking() {
    var bubble = el("div", { class: "qa-bubble qa-bot qa-thinking" });
    var dots = el("span", { class: "qa-dots", "aria-hidden": "true" });
    for (var i = 0; i < 3; i++) dots.appendChild(el("span"));
    bubble.appendChild(dots);
    bubble.appendChild(el("span", { class: "qa-sr-only" }, T.thinking));
    return addRow("bot", bubble);
  }

  function helpfulButtons(reply) {
    var group = el("div", { class: "qa-helpful", role: "group", "aria-label": T.helpful });
    group.appendChild(el("span", { class: "qa-helpful-label" }, T.helpful));
    var yes = el("button", { type: "button", class: "qa-vote", "data-testid": "qa-helpful-yes", "aria-pressed": "false" });
    yes.appendChild(icon("up"));
    yes.appendChild(el("span", null, T.yes));
    var no = el("button", { type: "button", class: "qa-vote", "data-testid": "qa-helpful-no", "aria-pressed": "false" });
    no.appendChild(icon("down"));
    no.appendChild(el("span", null, T.no));
    var note = el("p", { class: "qa-thanks", "data-testid": "qa-feedback-status", role: "status" });
    note.hidden = true;

    function vote(helpful, button) {
      yes.disabled = true;
      no.disabled = true;
      button.setAttribute("aria-pressed", "true");
      button.classList.add("qa-vote-on");
      var body = {
        query_id: reply.query_id,
        passage_id: reply.answer ? reply.answer.id : null,
        verdict: helpful ? "correct" : "incorrect",
        source: "customer",
      };
      postJson("/v1/feedback", body).then(
        function (res) {
          note.hidden = false;
          if (res.ok) {
            note.textContent = helpful ? T.thanks : T.thanksNo;
          } else {
            note.textContent = T.feedbackFailed;
            yes.disabled = false;
            no.disabled = false;
            button.setAttribute("aria-pressed", "false");
            button.classList.remove("qa-vote-on");
          }
        },
        function () {
          note.hidden = false;
          note.textContent = T.feedbackFailed;
          yes.disabled = false;
          no.disabled = false;
          button.setAttribute("aria-pressed", "false");
          button.classList.remove("qa-vote-on");
        }
      );
    }
    yes.addEventListener("click", function () {
      vote(true, yes);
    });
    no.addEventListener("click", function () {
      vote(false, no);
    });
    group.appendChild(yes);
    group.appendChild(no);
    var wrap = el("div", { class: "qa-feedback" });
    wrap.appendChild(group);
    wrap.appendChild(note);
    return wrap;
  }

  // Related entries as chips: one tap asks for that entry.
  function relatedChips(bubble, related, label) {
    if (!Array.isArray(related) || !related.length) return;
    var more = el("div", { class: "qa-chips qa-related", role: "group", "aria-label": label, "data-testid": "qa-related" });
    more.appendChild(el("span", { class: "qa-related-label", "aria-hidden": "true" }, label));
    related.forEach(function (r) {
      var chip = el("button", { type: "button", class: "qa-chip", "data-faq-id": r.faq_id || "" }, r.title || "");
      chip.addEventListener("click", function () {
        ask(r.title);
      });
      more.appendChild(chip);
    });
    bubble.appendChild(more);
  }

  function renderReply(row, reply) {
    var bubble = el("div", { class: "qa-bubble qa-bot", "data-testid": "qa-reply", "data-query-id": reply.query_id });
    bubble.appendChild(el("span", { class: "qa-sr-only" }, T.bot + ": "));
    if (reply.reply) {
      // Small talk: a chat line, with no FAQ answer to vote on.
      bubble.classList.add("qa-smalltalk");
      bubble.setAttribute("data-kind", reply.reply.kind || "");
      bubble.appendChild(el("p", { class: "qa-text", "data-testid": "qa-smalltalk" }, reply.reply.text || ""));
      row.replaceChildren(el("span", { class: "qa-avatar", "aria-hidden": "true" }, "OK"), bubble);
      reveal(row);
      return;
    }
    if (reply.escalate) {
      var esc = reply.escalation || {};
      bubble.classList.add("qa-escalated");
      bubble.appendChild(el("p", { class: "qa-text", "data-testid": "qa-answer" }, esc.message || ""));
      var href = safeUrl(esc.url);
      if (href) {
        var link = el("a", {
          class: "qa-human",
          href: href,
          target: "_blank",
          rel: "noopener noreferrer",
          "data-testid": "qa-escalation",
          "data-reason": esc.reason || "",
        });
        link.appendChild(icon("person"));
        link.appendChild(el("span", null, T.human));
        link.appendChild(el("span", { class: "qa-sr-only" }, T.humanNote));
        bubble.appendChild(link);
      }
      // The entry on topic that lacks the detail asked for ("where is the hotline listed?").
      relatedChips(bubble, esc.related, T.seeAlso);
    } else {
      var ans = reply.answer || {};
      // After repeated failure a person comes first, whatever the answer.
      var offer = reply.offer_human;
      var offerHref = offer && safeUrl(offer.url);
      if (offerHref) {
        var box = el("p", { class: "qa-offer", "data-testid": "qa-offer-human" }, offer.message || "");
        var offerLink = el("a", { class: "qa-human", href: offerHref, target: "_blank",
          rel: "noopener noreferrer" });
        offerLink.appendChild(icon("person"));
        offerLink.appendChild(el("span", null, T.human));
        box.appendChild(offerLink);
        bubble.appendChild(box);
      }
      // An answer in another language than the page's says so (no English text for it).
      var note = ans.lang && T.inLang[ans.lang];
      if (note) bubble.appendChild(el("p", { class: "qa-lang-note", "data-testid": "qa-lang-note" }, note));
      var shown = answerText(ans);
      bubble.appendChild(shown);
      originalToggle(bubble, ans, shown);
      otherPassages(bubble, ans.other_passages);
      // Entries that complete this answer (each contact channel).
      relatedChips(bubble, ans.related, T.related);
      if (ans.title) {
        var src = el("p", { class: "qa-source", "data-testid": "qa-source" });
        src.appendChild(el("span", { class: "qa-source-label" }, T.source));
        src.appendChild(el("span", { class: "qa-source-title" }, ans.title));
        bubble.appendChild(src);
      }
    }
    // Votes are on answers; an escalation is not one.
    if (!reply.escalate) bubble.appendChild(helpfulButtons(reply));
    row.replaceChildren(el("span", { class: "qa-avatar", "aria-hidden": "true" }, "OK"), bubble);
    reveal(row);
  }

  // The answer, with the sentence that answers in bold (answer.highlights: character spans).
  function answerText(ans) {
    var text = String(ans.text || "");
    var p = el("p", { class: "qa-text", "data-testid": "qa-answer",
      lang: ans.lang === "zh" ? "zh-CN" : ans.lang || "" });
    var spans = (ans.highlights || []).filter(function (h) {
      return h && h.start >= 0 && h.end <= text.length && h.start < h.end;
    });
    var pos = 0;
    spans.forEach(function (h) {
      if (h.start < pos) return;
      p.appendChild(document.createTextNode(text.slice(pos, h.start)));
      p.appendChild(el("strong", { class: "qa-highlight", "data-testid": "qa-highlight" },
        text.slice(h.start, h.end)));
      pos = h.end;
    });
    p.appendChild(document.createTextNode(text.slice(pos)));
    return p;
  }

  // A rendered answer (English from a Chinese entry) keeps its original one tap away.
  function originalToggle(bubble, ans, shown) {
    if (!ans.original || !ans.original.text) return;
    var orig = el("p", { class: "qa-text qa-original", hidden: "", "data-testid": "qa-original",
      lang: ans.original.lang === "zh" ? "zh-CN" : ans.original.lang }, ans.original.text);
    var button = el("button", { type: "button", class: "qa-more-toggle",
      "aria-expanded": "false", "data-testid": "qa-original-toggle" }, T.original);
    button.addEventListener("click", function () {
      var showOriginal = orig.hasAttribute("hidden");
      if (showOriginal) { orig.removeAttribute("hidden"); shown.setAttribute("hidden", ""); }
      else { orig.setAttribute("hidden", ""); shown.removeAttribute("hidden"); }
      button.setAttribute("aria-expanded", showOriginal ? "true" : "false");
      button.textContent = showOriginal ? T.translated : T.original;
    });
    bubble.insertBefore(button, shown.nextSibling);
    bubble.insertBefore(orig, button);
  }

  // The entry's other passages, one tap away, so a customer is never left with half an answer.
  function otherPassages(bubble, rest) {
    if (!rest || !rest.length) return;
    var box = el("div", { class: "qa-more", hidden: "", "data-testid": "qa-more" });
    rest.forEach(function (r) {
      box.appendChild(el("p", { class: "qa-text" }, r.text));
    });
    var button = el("button", { type: "button", class: "qa-more-toggle",
      "aria-expanded": "false", "data-testid": "qa-more-toggle" }, T.more);
    button.addEventListener("click", function () {
      var open = box.hasAttribute("hidden");
      if (open) box.removeAttribute("hidden"); else box.setAttribute("hidden", "");
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? T.less : T.more;
    });
    bubble.appendChild(button);
    bubble.appendChild(box);
  }

  function renderError(row, message) {
    var bubble = el("div", { class: "qa-bubble qa-bot qa-error", "data-testid": "qa-error" });
    bubble.appendChild(el("p", { class: "qa-text" }, message));
    row.replaceChildren(el("span", { class: "qa-avatar", "aria-hidden": "true" }, "OK"), bubble);
    scrollDown();
  }

  // Network -----------------------------------------------------------------------------
  function postJson(path, body) {
    return fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
    });
  }

  var pending = false;
  // The conversation lasts as long as the browser tab: the service uses it to read follow-ups.
  var conversationId = null;
  try {
    conversationId = window.sessionStorage.getItem("qa-conversation-id");
  } catch (e) {
    conversationId = null;
  }

  function ask(question) {
    var text = String(question || "").trim();
    if (pending) return;
    open();
    if (!text) {
      input.focus();
      return;
    }
    if (text.length > 1000) {
      renderError(addRow("bot", el("span")), T.badInput);
      return;
    }
    pending = true;
    send.disabled = true;
    input.value = "";
    addUser(text);
    var row = addThinking();
    var body = { question: text, top_k: 3, channel: "widget" };
    if (conversationId) body.conversation_id = conversationId;
    // data-lang fixes the reply's language; otherwise the customer's messages set it.
    if (data.lang === "en" || data.lang === "zh") body.lang = data.lang;
    postJson("/v1/query", body)
      .then(function (res) {
        if (res.ok) {
          return res.json().then(function (reply) {
            if (reply.conversation_id && reply.conversation_id !== conversationId) {
              conversationId = reply.conversation_id;
              try {
                window.sessionStorage.setItem("qa-conversation-id", conversationId);
              } catch (e) {
                /* private mode: the conversation lasts as long as the page */
              }
            }
            renderReply(row, reply);
          });
        }
        renderError(row, res.status === 429 ? T.busy : res.status < 500 ? T.badInput : T.serverError);
      })
      .catch(function () {
        renderError(row, T.networkError);
      })
      .then(function () {
        pending = false;
        send.disabled = false;
        if (!panel.hidden) input.focus();
      });
  }

  // Open / close, keyboard ----------------------------------------------------------------
  var welcomed = false;

  function open() {
    if (!panel.hidden) return;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("qa-open");
    if (!welcomed) {
      welcomed = true;
      addWelcome();
    }
    input.focus();
  }

  function close() {
    if (panel.hidden) return;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("qa-open");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else close();
  });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      e.stopPropagation();
      close();
    }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    ask(input.value);
  });

  function mount() {
    document.body.appendChild(host);
    if (data.open === "true") open();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.OKPAYHelp = { open: open, close: close, ask: ask, lang: lang };
})();
