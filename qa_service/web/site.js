/* Help page: language follows the browser; topic links and the search box ask the widget. */
(function () {
  "use strict";

  var EN = {
    skip: "Skip to main content",
    navLabel: "Main navigation",
    navPersonal: "Personal",
    navBusiness: "Business",
    navDevelopers: "Developers",
    navHelp: "Help Center",
    login: "Log in",
    signup: "Sign up free",
    eyebrow: "OKPAY Help Center",
    heroTitle: "Hi, how can we help?",
    heroLead: "Search common questions or ask our online help and get an answer in seconds.",
    searchLabel: "Search help",
    searchPlaceholder: "e.g. I forgot my password",
    searchButton: "Ask",
    popular: "Popular:",
    q_password: "I forgot my password",
    q_frozen: "My account is frozen",
    q_frozen_why: "Why was my account frozen?",
    q_fees: "What is the withdrawal fee?",
    q_methods: "Which payment methods are supported?",
    q_safe: "Is OKPAY safe?",
    q_protect: "How do I keep my account safe?",
    q_contact: "How do I contact support?",
    q_phone: "Where do I find the support phone number?",
    topicsTitle: "Browse by topic",
    t_account: "Account & login",
    t_account_d: "Password recovery, frozen accounts and account safety.",
    t_pay: "Payments & withdrawals",
    t_pay_d: "Payment methods and withdrawal fees.",
    t_safety: "Security & privacy",
    t_safety_d: "Keep your account safe and spot suspicious activity.",
    t_contact: "Contact us",
    t_contact_d: "Live chat, phone, e-mail and social media.",
    noticeTitle: "Beware of scams",
    noticeText:
      "OKPAY staff will never ask for your password, SMS code or full card number. If in doubt, contact us through official channels.",
    contactTitle: "Still need help?",
    contactText: "Online help answers common questions instantly, and hands anything else to a human agent.",
    contactButton: "Open online help",
    footerLabel: "Footer",
    privacy: "Privacy",
    terms: "Terms",
  };
  var EN_ASK = {
    q_password: "I forgot my password",
    q_frozen: "My account is frozen, what should I do?",
    q_frozen_why: "Why was my account frozen?",
    q_fees: "How much is the withdrawal fee?",
    q_methods: "Which payment methods does OKPAY support?",
    q_safe: "Is OKPAY safe?",
    q_protect: "How do I keep my account safe?",
    q_contact: "How do I contact OKPAY support?",
    q_phone: "Where can I find the OKPAY support phone number?",
  };

  var browserLang = (navigator.languages && navigator.languages[0]) || navigator.language || "zh";
  var english = !/^zh\b/i.test(browserLang);

  if (english) {
    document.documentElement.lang = "en";
    document.title = "Help Center - OKPAY";
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      var key = node.getAttribute("data-i18n");
      if (EN[key]) node.textContent = EN[key];
      if (EN_ASK[key] && node.hasAttribute("data-ask")) node.setAttribute("data-ask", EN_ASK[key]);
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (node) {
      node.setAttribute("placeholder", EN[node.getAttribute("data-i18n-placeholder")]);
    });
    document.querySelectorAll("[data-i18n-aria]").forEach(function (node) {
      node.setAttribute("aria-label", EN[node.getAttribute("data-i18n-aria")]);
    });
  }

  function help() {
    return window.OKPAYHelp;
  }

  document.addEventListener("click", function (e) {
    var target = e.target.closest("[data-ask]");
    if (target && help()) help().ask(target.getAttribute("data-ask"));
  });

  var openBtn = document.getElementById("open-help");
  if (openBtn) {
    openBtn.addEventListener("click", function () {
      if (help()) help().open();
    });
  }

  var search = document.getElementById("hero-search");
  if (search) {
    search.addEventListener("submit", function (e) {
      e.preventDefault();
      var box = document.getElementById("hero-q");
      var q = box.value.trim();
      if (!q || !help()) {
        box.focus();
        return;
      }
      box.value = "";
      help().ask(q);
    });
  }
})();
