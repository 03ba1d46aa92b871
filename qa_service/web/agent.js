/*
 * Agent console: look up suggested answers for a customer question, copy one, mark it correct,
 * incorrect or unanswerable (stored through POST /v1/feedback), and work through the review
 * list of escalated and low-confidence questions. All text is set with textContent.
 * With QA_AGENT_TOKEN set, the token is asked for once and kept for this browser tab only.
 */
(function () {
  "use strict";

  var browserLang = (navigator.languages && navigator.languages[0]) || navigator.language || "zh";
  var lang = /^zh\b/i.test(browserLang) ? "zh" : "en";
  var STRINGS = {
    zh: {
      pageTitle: "客服工作台 - OKPAY",
      searching: "查询中…",
      noResults: "没有找到建议答案。",
      failed: "请求失败：",
      network: "网络异常，请重试。",
      confidence: "置信度",
      answered: "可自动回答",
      escalated: "建议转人工",
      score: "相关度",
      source: "来源",
      copy: "复制答案",
      copied: "已复制",
      copyFailed: "复制失败",
      correct: "正确",
      incorrect: "错误",
      unanswerable: "无法回答",
      markLabel: "标记此建议",
      reasonLabel: "原因（可选）",
      commentLabel: "备注（可选）",
      saved: "已保存反馈",
      record: "记录",
      saveFailed: "保存失败：",
      review: "复核",
      asked: function (n) {
        return "问过 " + n + " 次";
      },
      reviewFailed: "无法加载待复核列表：",
      badToken: "令牌无效，请重新输入。",
      signedIn: "已登录",
      openMode: "未启用令牌",
      question: "问题",
      reasons: {
        low_confidence: "置信度低",
        ambiguous: "答案不明确",
        out_of_scope: "超出范围",
        no_index: "索引未加载",
        human_requested: "要求人工",
        urgent: "紧急",
      },
      understoodAs: "结合上文理解为：",
      handoffTitle: "转人工对话",
      conversation: "对话",
      customer: "客户",
      service: "系统",
      answeredWith: "回答：",
      repliedWith: "闲聊回复：",
      escalatedAs: "转人工：",
      noHandoff: "找不到该转人工记录。",
      feedbackReasons: [
        ["", "原因（可选）"],
        ["wrong_entry", "答非所问"],
        ["partial", "回答不完整"],
        ["outdated", "内容过时"],
        ["unclear_question", "问题不清楚"],
        ["not_in_faq", "常见问题未覆盖"],
        ["other", "其他"],
      ],
    },
    en: {
      pageTitle: "Agent console - OKPAY",
      title: "Agent console",
      signOut: "Sign out",
      signInTitle: "Sign in to the agent console",
      signInText: "Enter the agent token your administrator gave you.",
      tokenLabel: "Agent token",
      signIn: "Sign in",
      searchTitle: "Suggested answers",
      reviewing: "Reviewing customer question",
      cancel: "Cancel",
      questionLabel: "Customer question",
      questionPlaceholder: "Type or paste the customer's question",
      topKLabel: "Number of suggestions",
      search: "Search",
      emptyText: "Enter a customer question to see suggested FAQ answers, and mark whether they are right.",
      emptyHint: "Shortcuts: press / to focus the question box, Enter to search.",
      reviewTitle: "Review queue",
      refresh: "Refresh",
      reviewSub: "Recent escalated or low-confidence customer questions (PII masked).",
      reviewEmpty: "Nothing to review.",
      searching: "Searching…",
      noResults: "No suggestions found.",
      failed: "Request failed: ",
      network: "Network problem, please retry.",
      confidence: "Confidence",
      answered: "Auto-answer",
      escalated: "Escalate to human",
      score: "Score",
      source: "Source",
      copy: "Copy answer",
      copied: "Copied",
      copyFailed: "Copy failed",
      correct: "Correct",
      incorrect: "Incorrect",
      unanswerable: "Unanswerable",
      markLabel: "Mark this suggestion",
      reasonLabel: "Reason (optional)",
      commentLabel: "Comment (optional)",
      saved: "Feedback saved",
      record: "record",
      saveFailed: "Not saved: ",
      review: "Review",
      asked: function (n) {
        return "asked " + n + " times";
      },
      reviewFailed: "Could not load the review queue: ",
      badToken: "Invalid token, please try again.",
      signedIn: "Signed in",
      openMode: "No token configured",
      question: "Question",
      reasons: {
        low_confidence: "Low confidence",
        ambiguous: "Ambiguous",
        out_of_scope: "Out of scope",
        no_index: "No index",
        human_requested: "Asked for a person",
        urgent: "Urgent",
      },
      understoodAs: "Read with the conversation as: ",
      handoffTitle: "Handoff conversation",
      conversation: "Conversation",
      customer: "Customer",
      service: "Service",
      answeredWith: "answered with ",
      repliedWith: "small talk: ",
      escalatedAs: "handed over: ",
      noHandoff: "No such handoff.",
      feedbackReasons: [
        ["", "Reason (optional)"],
        ["wrong_entry", "Wrong entry"],
        ["partial", "Incomplete"],
        ["outdated", "Outdated"],
        ["unclear_question", "Unclear question"],
        ["not_in_faq", "Not in the FAQ"],
        ["other", "Other"],
      ],
    },
  };
  var T = STRINGS[lang];
  var TOKEN_KEY = "okpay-agent-token";

  function $(id) {
    return document.getElementById(id);
  }

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

  function applyLanguage() {
    if (lang !== "en") return;
    document.documentElement.lang = "en";
    document.title = T.pageTitle;
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      var value = T[node.getAttribute("data-i18n")];
      if (typeof value === "string") node.textContent = value;
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (node) {
      node.setAttribute("placeholder", T[node.getAttribute("data-i18n-placeholder")]);
    });
  }

  // Token and requests ----------------------------------------------------------------------
  function token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function setToken(value) {
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* private mode: the token lives only as long as the page */
    }
    memoryToken = value;
  }

  var memoryToken = "";

  function request(method, path, body) {
    var headers = { Accept: "application/json" };
    var t = token() || memoryToken;
    if (t) headers.Authorization = "Bearer " + t;
    if (body) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    }).then(function (res) {
      return res
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (res.status === 401) showSignIn();
          return { ok: res.ok, status: res.status, data: data };
        });
    });
  }

  function errorText(res) {
    return (res.data && res.data.error) || "HTTP " + res.status;
  }

  // Sign-in ---------------------------------------------------------------------------------
  function showSignIn(message) {
    $("console").hidden = true;
    $("signin").hidden = false;
    $("who").hidden = true;
    $("sign-out").hidden = true;
    var err = $("signin-error");
    err.hidden = !message;
    err.textContent = message || "";
    $("token").focus();
  }

  function showConsole(tokenRequired) {
    $("signin").hidden = true;
    $("console").hidden = false;
    $("who").hidden = false;
    $("who").textContent = tokenRequired ? T.signedIn : T.openMode;
    $("sign-out").hidden = !tokenRequired;
    loadReview();
    $("agent-q").focus();
    // Opened from an escalation link (?handoff=<id>): the conversation comes first.
    var handoffId = new URLSearchParams(window.location.search).get("handoff");
    if (handoffId) loadHandoff(handoffId);
  }

  // The whole masked conversation of a handoff, so the customer never repeats themselves.
  function loadHandoff(id) {
    request("GET", "/v1/handoffs/" + encodeURIComponent(id)).then(function (res) {
      var box = $("handoff");
      box.hidden = false;
      var list = $("handoff-transcript");
      list.replaceChildren();
      if (!res.ok) {
        $("handoff-summary").textContent = res.status === 404 ? T.noHandoff : errorText(res);
        return;
      }
      var h = res.data;
      $("handoff-summary").textContent = h.summary || "";
      (h.transcript || []).forEach(function (t) {
        var li = el("li", { class: "handoff-turn" + (t.reason === "urgent" ? " review-urgent" : ""),
          "data-testid": "handoff-turn" });
        li.appendChild(el("p", { class: "handoff-q" }, T.customer + ": " + t.question));
        if (t.understood_as) li.appendChild(el("p", { class: "review-context" }, T.understoodAs + t.understood_as));
        var did = t.reply_kind ? T.repliedWith + t.reply_kind
          : t.escalated ? T.escalatedAs + (T.reasons[t.reason] || t.reason || "")
          : T.answeredWith + (t.answered_with || "");
        li.appendChild(el("p", { class: "handoff-a" }, T.service + ": " + did));
        list.appendChild(li);
      });
      box.scrollIntoView({ block: "nearest" });
    });
  }

  function checkSession(afterLogin) {
    request("GET", "/v1/agent/session").then(
      function (res) {
        if (res.ok && res.data.authenticated) showConsole(res.data.token_required);
        else if (res.ok) showSignIn(afterLogin ? T.badToken : "");
        else showSignIn(T.failed + errorText(res));
      },
      function () {
        showSignIn(T.network);
      }
    );
  }

  $("signin-form").addEventListener("submit", function (e) {
    e.preventDefault();
    setToken($("token").value.trim());
    $("token").value = "";
    checkSession(true);
  });

  $("sign-out").addEventListener("click", function () {
    setToken("");
    showSignIn();
  });

  // Search ----------------------------------------------------------------------------------
  var reviewingId = null;
  var lastQueryId = null;

  function setStatus(text, kind) {
    var s = $("status");
    s.textContent = text || "";
    s.className = "status" + (kind ? " status-" + kind : "");
  }

  function setReviewing(item) {
    reviewingId = item ? item.id : null;
    $("reviewing").hidden = !item;
    $("reviewing-id").textContent = item ? item.id : "";
    document.querySelectorAll(".review-item").forEach(function (li) {
      li.classList.toggle("active", !!item && li.getAttribute("data-query-id") === item.id);
    });
  }

  $("reviewing-cancel").addEventListener("click", function () {
    setReviewing(null);
  });

  function search(question) {
    var q = String(question || "").trim();
    if (!q) {
      $("agent-q").focus();
      return;
    }
    var button = document.querySelector("[data-testid=agent-search]");
    button.disabled = true;
    setStatus(T.searching, "busy");
    request("POST", "/v1/query", { question: q, top_k: Number($("agent-k").value), channel: "agent" })
      .then(
        function (res) {
          if (!res.ok) {
            setStatus(T.failed + errorText(res), "error");
            return;
          }
          setStatus("");
          render(res.data);
        },
        function () {
          setStatus(T.network, "error");
        }
      )
      .then(function () {
        button.disabled = false;
      });
  }

  $("ask-form").addEventListener("submit", function (e) {
    e.preventDefault();
    search($("agent-q").value);
  });

  function percent(x) {
    return Math.round(Math.max(0, Math.min(1, Number(x) || 0)) * 100);
  }

  function render(data) {
    lastQueryId = data.query_id;
    $("empty").hidden = true;
    var summary = $("summary");
    summary.replaceChildren();
    summary.hidden = false;
    var badge = el("span", { class: "badge " + (data.escalate ? "badge-warn" : "badge-ok") });
    if (data.escalate) {
      var reason = data.escalation && data.escalation.reason;
      badge.textContent = T.escalated + (reason ? " · " + (T.reasons[reason] || reason) : "");
    } else {
      badge.textContent = T.answered;
    }
    summary.appendChild(badge);
    var conf = el("span", { class: "conf" });
    conf.appendChild(el("span", { class: "conf-label" }, T.confidence + " "));
    conf.appendChild(el("strong", { "data-testid": "agent-confidence" }, Number(data.confidence).toFixed(2)));
    summary.appendChild(conf);
    summary.appendChild(el("code", { class: "qid", title: "query_id" }, data.query_id));

    var list = $("suggestions");
    list.replaceChildren();
    if (!data.passages || !data.passages.length) {
      list.appendChild(el("li", { class: "none" }, T.noResults));
      return;
    }
    data.passages.forEach(function (p, i) {
      list.appendChild(suggestion(p, i, data));
    });
  }

  function suggestion(p, i, data) {
    var li = el("li", { class: "sug", "data-testid": "agent-suggestion", "data-passage-id": p.id });
    if (!data.escalate && i === 0) li.classList.add("sug-top");

    var head = el("div", { class: "sug-head" });
    head.appendChild(el("span", { class: "rank" }, "#" + (i + 1)));
    head.appendChild(el("h3", { class: "sug-title" }, p.title));
    head.appendChild(el("code", { class: "pid" }, p.id));
    li.appendChild(head);

    var scoreRow = el("div", { class: "score" });
    scoreRow.appendChild(el("span", { class: "score-label" }, T.score));
    var bar = el("div", {
      class: "meter",
      role: "meter",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(percent(p.score)),
      "aria-label": T.score,
    });
    var fill = el("span", { class: "fill" });
    fill.style.width = percent(p.score) + "%"; // CSSOM, allowed under a strict CSP
    if (p.score >= 0.75) fill.classList.add("fill-high");
    else if (p.score >= 0.5) fill.classList.add("fill-mid");
    bar.appendChild(fill);
    scoreRow.appendChild(bar);
    scoreRow.appendChild(el("span", { class: "score-val" }, Number(p.score).toFixed(2)));
    if (i === 0) {
      scoreRow.appendChild(
        el("span", { class: "score-conf" }, T.confidence + " " + Number(data.confidence).toFixed(2))
      );
    }
    li.appendChild(scoreRow);

    li.appendChild(el("p", { class: "passage" }, p.text));
    li.appendChild(el("p", { class: "src" }, T.source + ": " + p.source));

    var actions = el("div", { class: "actions" });
    var copy = el("button", { type: "button", class: "btn btn-small", "data-testid": "agent-copy" }, T.copy);
    copy.addEventListener("click", function () {
      copyText(p.text).then(
        function () {
          flash(copy, T.copied);
        },
        function () {
          flash(copy, T.copyFailed);
        }
      );
    });
    actions.appendChild(copy);

    var reasonId = "reason-" + i;
    var reasonLabel = el("label", { for: reasonId, class: "sr-only" }, T.reasonLabel);
    var reason = el("select", { id: reasonId, class: "reason" });
    T.feedbackReasons.forEach(function (r) {
      reason.appendChild(el("option", { value: r[0] }, r[1]));
    });
    var commentId = "comment-" + i;
    var commentLabel = el("label", { for: commentId, class: "sr-only" }, T.commentLabel);
    var comment = el("input", {
      id: commentId,
      type: "text",
      class: "comment",
      maxlength: "2000",
      placeholder: T.commentLabel,
    });
    actions.appendChild(reasonLabel);
    actions.appendChild(reason);
    actions.appendChild(commentLabel);
    actions.appendChild(comment);

    var marks = el("div", { class: "marks", role: "group", "aria-label": T.markLabel });
    var saved = el("p", { class: "saved", "data-testid": "agent-feedback-saved", role: "status" });
    var error = el("p", { class: "save-error", role: "alert" });
    saved.hidden = true;
    error.hidden = true;
    [
      ["correct", "btn-ok"],
      ["incorrect", "btn-bad"],
      ["unanswerable", "btn-neutral"],
    ].forEach(function (m) {
      var b = el("button", { type: "button", class: "btn btn-small " + m[1], "data-testid": "agent-mark-" + m[0] }, T[m[0]]);
      b.addEventListener("click", function () {
        mark(p, m[0], reason.value, comment.value, b, marks, saved, error);
      });
      marks.appendChild(b);
    });
    actions.appendChild(marks);
    li.appendChild(actions);
    li.appendChild(saved);
    li.appendChild(error);
    return li;
  }

  function mark(p, verdict, reason, comment, button, group, saved, error) {
    var buttons = group.querySelectorAll("button");
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    error.hidden = true;
    var body = {
      query_id: reviewingId || lastQueryId,
      passage_id: p.id,
      verdict: verdict,
      source: "agent",
    };
    if (reason) body.reason = reason;
    if (comment && comment.trim()) body.comment = comment.trim();
    request("POST", "/v1/feedback", body).then(
      function (res) {
        buttons.forEach(function (b) {
          b.disabled = false;
          b.setAttribute("aria-pressed", b === button && res.ok ? "true" : "false");
        });
        if (res.ok) {
          saved.hidden = false;
          saved.textContent = "✓ " + T.saved + " · " + T[verdict] + " · " + T.record + " #" + res.data.id;
          if (reviewingId) loadReview();
        } else {
          error.hidden = false;
          error.textContent = T.saveFailed + errorText(res);
        }
      },
      function () {
        buttons.forEach(function (b) {
          b.disabled = false;
        });
        error.hidden = false;
        error.textContent = T.network;
      }
    );
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = el("textarea", { class: "sr-only", readonly: "" });
      area.value = text;
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      area.remove();
      if (ok) resolve();
      else reject(new Error("copy"));
    });
  }

  function flash(button, text) {
    var original = button.textContent;
    button.textContent = text;
    setTimeout(function () {
      button.textContent = original;
    }, 1500);
  }

  // Review queue ----------------------------------------------------------------------------
  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", {
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  function loadReview() {
    request("GET", "/v1/review?limit=50").then(
      function (res) {
        var list = $("review");
        list.replaceChildren();
        if (!res.ok) {
          if (res.status !== 401) list.appendChild(el("li", { class: "none" }, T.reviewFailed + errorText(res)));
          return;
        }
        var items = res.data.items || [];
        $("review-empty").hidden = items.length > 0;
        items.forEach(function (item) {
          list.appendChild(reviewItem(item));
        });
        if (reviewingId) {
          var still = items.some(function (i) {
            return i.id === reviewingId;
          });
          if (!still) setReviewing(null);
        }
      },
      function () {
        var list = $("review");
        list.replaceChildren(el("li", { class: "none" }, T.network));
      }
    );
  }

  function reviewItem(item) {
    var li = el("li", { class: "review-item", "data-query-id": item.id, "data-testid": "review-item" });
    if (item.id === reviewingId) li.classList.add("active");
    if (item.reason === "urgent") li.classList.add("review-urgent");
    li.appendChild(el("p", { class: "review-q" }, item.question));
    // A follow-up, as the service read it with the conversation's last question.
    if (item.understood_as) {
      li.appendChild(el("p", { class: "review-context", "data-testid": "review-understood" },
        T.understoodAs + item.understood_as));
    }
    var meta = el("div", { class: "review-meta" });
    var tag = item.escalate ? T.reasons[item.reason] || item.reason || T.escalated : T.confidence + " " + Number(item.confidence).toFixed(2);
    var badge = item.reason === "urgent" ? "badge-urgent" : item.escalate ? "badge-warn" : "badge-info";
    meta.appendChild(el("span", { class: "badge " + badge, "data-testid": "review-reason" }, tag));
    // The same wording asked again shows once, with its count: repeats are what to fix first.
    if (item.times_asked > 1) {
      meta.appendChild(el("span", { class: "badge badge-info", "data-testid": "times-asked" }, T.asked(item.times_asked)));
    }
    meta.appendChild(el("span", { class: "review-time" }, when(item.created_at) + " · " + item.channel));
    var go = el("button", { type: "button", class: "btn btn-small btn-outline" }, T.review);
    go.addEventListener("click", function () {
      setReviewing(item);
      $("agent-q").value = item.question;
      search(item.question);
    });
    meta.appendChild(go);
    if (item.escalate && item.conversation_id) {
      var talk = el("button", { type: "button", class: "btn btn-small btn-outline",
        "data-testid": "review-conversation" }, T.conversation);
      talk.addEventListener("click", function () {
        loadHandoff(item.id);
      });
      meta.appendChild(talk);
    }
    li.appendChild(meta);
    return li;
  }

  $("review-refresh").addEventListener("click", loadReview);

  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (e.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(tag) && !$("console").hidden) {
      e.preventDefault();
      $("agent-q").focus();
    }
  });

  applyLanguage();
  memoryToken = token();
  checkSession(false);
})();
