// A short tour of the linkpay core through the npm package (no network needed).
import * as linkpay from "../dist/index.js";

const step = (title) => console.log(`\n== ${title}`);
const show = (value) => console.log(JSON.stringify(value, null, 2));

step(`linkpay ${linkpay.version}: validate a spend request before any HTTP request is made`);
const context =
  "Buying the trail running shoes the user picked in our chat, size 10, for their race next week.";
const good = {
  amount: 12900,
  currency: "USD",
  merchant_name: "Galtee Outdoor",
  merchant_url: "https://galtee.example/products/shoes",
  context: context.padEnd(100, "."),
  line_items: ["name:Trail shoes,quantity:1,unit_amount:12900"],
};
try {
  show(linkpay.validateCreateSpendRequest(good));
} catch (e) {
  console.log(`${e.code}: ${e.message}`);
}

step("a bad request: every problem is reported at once, with field paths");
try {
  linkpay.validateCreateSpendRequest({ amount: 999999, currency: "dollars", context: "short" });
} catch (e) {
  show({ code: e.code, fieldErrors: e.fieldErrors });
}

step("decode an MPP 402 challenge (WWW-Authenticate: Payment …)");
const header =
  'Payment id="ch_1", realm="merchant.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';
try {
  show(linkpay.decodeStripeChallenge(header));
} catch (e) {
  console.log(`${e.code}: ${e.message}`);
}
