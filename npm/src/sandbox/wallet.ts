/** The sandbox wallet: users and the test payment methods every user has. */

import type { JsonObject } from "../index.js";
import type { Context } from "./context.js";
import { randomId } from "./ids.js";
import type { UserRecord } from "./state.js";

export interface PaymentMethod {
  id: string;
  type: "card" | "bank_account";
  nickname: string;
  /** Approving a request funded by it goes through 3-D Secure (requires_action, auto_resume). */
  threeDSecure?: boolean;
  card?: { brand: string; last4: string; exp_month: number; exp_year: number };
  bank?: { last4: string; bank_name: string };
}

/** Every user's wallet. The first is the default. */
export const PAYMENT_METHODS: readonly PaymentMethod[] = [
  { id: "csmrpd_sandbox_visa", type: "card", nickname: "Personal Visa", card: { brand: "visa", last4: "4242", exp_month: 12, exp_year: 2034 } },
  { id: "csmrpd_sandbox_mastercard", type: "card", nickname: "Work Mastercard", card: { brand: "mastercard", last4: "4444", exp_month: 6, exp_year: 2033 } },
  { id: "csmrpd_sandbox_bank", type: "bank_account", nickname: "Checking", bank: { last4: "6789", bank_name: "STRIPE TEST BANK" } },
  { id: "csmrpd_sandbox_3ds", type: "card", nickname: "Visa (3-D Secure)", threeDSecure: true, card: { brand: "visa", last4: "3155", exp_month: 9, exp_year: 2032 } },
];

export const DEFAULT_PAYMENT_METHOD = PAYMENT_METHODS[0];

export function findPaymentMethod(id: string): PaymentMethod | undefined {
  return PAYMENT_METHODS.find((pm) => pm.id === id);
}

/** `GET /payment-details` entries, in the reference client's shape. */
export function paymentDetails(): JsonObject[] {
  return PAYMENT_METHODS.map((pm) => {
    const out: JsonObject = { id: pm.id, type: pm.type, is_default: pm === DEFAULT_PAYMENT_METHOD, nickname: pm.nickname };
    if (pm.card) out.card_details = { ...pm.card };
    if (pm.bank) out.bank_account_details = { ...pm.bank };
    out.capabilities = { agentic_payments: { eligible: true, ineligibility_reasons: [] } };
    return out;
  });
}

/** One line for pages: `Visa ····4242 (Personal Visa)`. */
export function describePaymentMethod(pm: PaymentMethod): string {
  const what = pm.card ? `${pm.card.brand[0].toUpperCase()}${pm.card.brand.slice(1)} ····${pm.card.last4}` : `${pm.bank?.bank_name ?? "Bank account"} ····${pm.bank?.last4 ?? ""}`;
  return `${what} (${pm.nickname})`;
}

export const DEFAULT_USER_ID = "usr_sandbox";

/** Creates a user (the default one has a fixed id so tokens and data files agree across runs). */
export function createUser(ctx: Context, fields: { id?: string; email?: string; name?: string; phone?: string } = {}): UserRecord {
  const id = fields.id ?? randomId("usr_", 12);
  const existing = ctx.state.users.get(id);
  if (existing !== undefined) return existing;
  const name = fields.name ?? "Jenny Rosen";
  const [first, ...rest] = name.split(" ");
  const user: UserRecord = {
    id,
    email: fields.email ?? (id === DEFAULT_USER_ID ? "jenny.rosen@example.com" : `${id}@sandbox.link.test`),
    name,
    first_name: first ?? "",
    last_name: rest.join(" "),
    phone: fields.phone ?? "+15555550123",
    created_ms: ctx.clock.now(),
  };
  ctx.state.users.set(id, user);
  ctx.changed();
  return user;
}

/** The billing address on every issued credential. */
export function billingAddress(user: UserRecord): JsonObject {
  return { name: user.name, line1: "510 Townsend St", line2: null, city: "San Francisco", state: "CA", postal_code: "94103", country: "US" };
}

export function userInfo(user: UserRecord): JsonObject {
  return { email: user.email, name: user.name, first_name: user.first_name, last_name: user.last_name, phone: user.phone };
}

export function shippingAddresses(user: UserRecord): JsonObject[] {
  return [
    {
      id: "csmrsa_sandbox_home",
      is_default: true,
      nickname: "Home",
      address: {
        name: user.name,
        line_1: "510 Townsend St",
        line_2: null,
        locality: "San Francisco",
        dependent_locality: null,
        administrative_area: "CA",
        postal_code: "94103",
        sorting_code: null,
        country_code: "US",
      },
    },
  ];
}
