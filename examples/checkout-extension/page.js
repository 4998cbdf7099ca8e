// Functions the service worker runs in the checkout page with chrome.scripting.executeScript
// (the extension's isolated world: the page's scripts cannot see their arguments). Each one is
// serialized on its own, so it may not use anything outside its body.

/**
 * Looks for a card form (autocomplete `cc-number`, or a field named like a card number) and
 * reads what the person is paying for: merchant, total (minor units + currency) and item.
 * Everything it returns is page text, so untrusted: the caller sanitizes and shortens it.
 */
export function detectCheckout() {
  const first = (root, selectors) => {
    for (const s of selectors) {
      const el = root.querySelector(s);
      if (el) return el;
    }
    return null;
  };
  const number = first(document, [
    'input[autocomplete="cc-number"]',
    'input[name*="cardnumber" i]',
    'input[name*="card_number" i]',
    'input[name*="card-number" i]',
    'input[id*="card-number" i]',
    'input[id*="cardnumber" i]',
  ]);
  const base = { url: location.href, origin: location.origin, title: document.title };
  if (!number) return { ...base, form: false };
  const form = number.form ?? document;
  const text = (el) => (el?.textContent ?? "").replace(/\s+/g, " ").trim();
  const SYMBOLS = { $: "usd", "€": "eur", "£": "gbp" };
  const money = (s) => {
    let m = /([$€£])\s?(\d[\d,]*)(?:\.(\d{2}))?/.exec(s);
    if (m) return { amount: Number(m[2].replace(/,/g, "")) * 100 + Number(m[3] ?? 0), currency: SYMBOLS[m[1]] };
    m = /(\d[\d,]*)\.(\d{2})\s?([A-Z]{3})\b/.exec(s);
    if (m) return { amount: Number(m[1].replace(/,/g, "")) * 100 + Number(m[2]), currency: m[3].toLowerCase() };
    return null;
  };
  // The total: hidden amount/currency fields of the form, else the text of a total/price
  // element or of the submit button ("Pay $129.00").
  let total = null;
  const amountField = form.querySelector('input[name="amount"]');
  if (amountField && /^\d+$/.test(amountField.value)) {
    const currency = form.querySelector('input[name="currency"]')?.value;
    total = { amount: Number(amountField.value), currency: /^[a-z]{3}$/i.test(currency ?? "") ? currency.toLowerCase() : "usd" };
  }
  if (!total) {
    for (const el of document.querySelectorAll('[id*="total" i], [class*="total" i], [id*="price" i], button[type="submit"], input[type="submit"]')) {
      total = money(text(el) || el.value || "");
      if (total) break;
    }
  }
  const split = (s) => (s ?? "").split(/\s[·|–—-]\s|\s·|·\s/)[0].trim();
  const merchant =
    document.querySelector('meta[property="og:site_name"]')?.content?.trim() ||
    split(text(document.querySelector("h1"))) ||
    split(document.title) ||
    location.hostname;
  const item = text(first(document, ["#item", '[class*="item-name" i]', '[class*="product" i]']));
  const fields = ["cc-number", "cc-exp", "cc-exp-month", "cc-exp-year", "cc-csc", "cc-name", "postal-code"].filter((a) =>
    form.querySelector(`input[autocomplete="${a}"]`),
  );
  return { ...base, form: true, merchant, item, total, fields };
}

/**
 * Fills the card into the form, if the page is still on `origin`, and returns the names of the
 * fields filled (never their values). Values go through the input's native setter plus
 * input/change events, so framework-managed forms see them too.
 */
export function fillCard(origin, card) {
  if (location.origin !== origin) return { ok: false, filled: [], reason: "The tab left the checkout page; nothing was filled in." };
  const pick = (...selectors) => {
    for (const s of selectors) {
      const el = document.querySelector(s);
      if (el) return el;
    }
    return null;
  };
  const filled = [];
  const put = (name, el, value) => {
    if (!el || value === undefined || value === null || value === "") return;
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value")?.set;
    if (setter) setter.call(el, String(value));
    else el.value = String(value);
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
    filled.push(name);
  };
  const mm = String(card.exp_month).padStart(2, "0");
  put("number", pick('input[autocomplete="cc-number"]', 'input[name*="cardnumber" i]', 'input[name*="card_number" i]', 'input[name*="card-number" i]', 'input[id*="card-number" i]'), card.number);
  const exp = pick('input[autocomplete="cc-exp"]');
  if (exp) put("exp", exp, `${mm}/${String(card.exp_year).slice(-2)}`);
  else {
    put("exp_month", pick('input[autocomplete="cc-exp-month"]', 'select[autocomplete="cc-exp-month"]'), mm);
    put("exp_year", pick('input[autocomplete="cc-exp-year"]', 'select[autocomplete="cc-exp-year"]'), String(card.exp_year));
  }
  put("cvc", pick('input[autocomplete="cc-csc"]', 'input[name*="cvc" i]', 'input[name*="cvv" i]'), card.cvc);
  put("name", pick('input[autocomplete="cc-name"]'), card.name);
  put("postal_code", pick('input[autocomplete="postal-code"]', 'input[name*="postal" i]', 'input[name*="zip" i]'), card.postal_code);
  return { ok: filled.includes("number"), filled, reason: filled.includes("number") ? "" : "No card number field on the page." };
}
