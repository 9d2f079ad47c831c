import { CANVAS_PATH, PRICE_CHOSEN_EVENT, type PriceChosenPayload } from './contract';
import { formatMoney, VOLUME_TIERS, type ProductOption, type Quote } from './pricing';
import type { CanvasRequest } from './signed-request';

/**
 * The canvas page, rendered on the server as plain HTML (no framework, no inline script or style, so the CSP can
 * stay strict). Everything that comes from the signed request or the database is escaped with {@link escapeHtml}.
 */

export interface ToolPage {
  readonly canvas: CanvasRequest;
  /** The raw signed request, posted again by each form (the page keeps no server-side session). */
  readonly signedRequest: string;
  readonly recordId: string;
  readonly recordName: string | undefined;
  readonly products: readonly ProductOption[];
  readonly quote?: Quote;
  /** Set after a successful write-back: the page publishes it as a Canvas event. */
  readonly saved?: PriceChosenPayload;
  /** A problem with the last action (an unknown product, a refused update), shown above the form. */
  readonly problem?: { readonly code: string; readonly message: string };
  /** The Canvas SDK script on the org's instance. */
  readonly sdkUrl: string;
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON for a `<script type="application/json">` data block: `<` escaped so no `</script>` can close it. */
function jsonBlock(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${CANVAS_PATH}/styles.css">
${head}</head>
<body>
${body}
</body>
</html>
`;
}

export function renderToolPage(page: ToolPage): string {
  const { canvas, quote, saved, problem } = page;
  const user = canvas.context.user;
  const org = canvas.context.organization;
  const selected = quote?.product.productCode;
  const options = page.products
    .map(
      (p) =>
        `<option value="${escapeHtml(p.productCode)}"${p.productCode === selected ? ' selected' : ''}>${escapeHtml(
          `${p.family} · ${p.name} (${p.productCode}) — ${formatMoney(p.unitPriceCents, p.currency)}`
        )}</option>`
    )
    .join('\n');
  const hidden = `<input type="hidden" name="signed_request" value="${escapeHtml(page.signedRequest)}">`;
  const quantity = quote?.quantity ?? 1;
  const tiers = VOLUME_TIERS.map(
    (t) => `<li>${t.minQuantity}+ units: ${t.discountPercent}% off list</li>`
  ).join('');
  const quoteBlock =
    quote === undefined
      ? ''
      : `<section class="quote" aria-label="Quote">
  <h2>ERP price</h2>
  <dl>
    <dt>Product</dt><dd>${escapeHtml(`${quote.product.name} (${quote.product.productCode})`)}</dd>
    <dt>Quantity</dt><dd>${quote.quantity}</dd>
    <dt>List</dt><dd>${escapeHtml(formatMoney(quote.listTotalCents, quote.product.currency))}</dd>
    <dt>Volume discount</dt><dd>${quote.discountPercent}%</dd>
    <dt>Price</dt><dd class="price" data-testid="price">${escapeHtml(formatMoney(quote.totalCents, quote.product.currency))}</dd>
  </dl>
  <form method="post" action="${CANVAS_PATH}/apply">
    ${hidden}
    <input type="hidden" name="productCode" value="${escapeHtml(quote.product.productCode)}">
    <input type="hidden" name="quantity" value="${quote.quantity}">
    <button type="submit">Use this price on the Opportunity</button>
  </form>
</section>`;
  const savedBlock =
    saved === undefined
      ? ''
      : `<p class="saved" role="status" data-testid="saved">Saved ${escapeHtml(formatMoney(Math.round(saved.price * 100), saved.currency))} to this Opportunity as ${escapeHtml(user.fullName)}.</p>`;
  const problemBlock =
    problem === undefined
      ? ''
      : `<p class="problem" role="alert" data-testid="problem"><strong>${escapeHtml(problem.code)}</strong> ${escapeHtml(problem.message)}</p>`;
  // What the browser script needs: the Canvas client (for resize and publish) and the event to publish, if any.
  const data = jsonBlock({
    client: canvas.client,
    event: saved === undefined ? null : { name: PRICE_CHOSEN_EVENT, payload: saved }
  });
  const head = `<script type="application/json" id="canvas-data">${data}</script>
<script src="${escapeHtml(page.sdkUrl)}" defer></script>
<script src="${CANVAS_PATH}/app.js" defer></script>
`;
  const body = `<header>
  <h1>ERP pricing</h1>
  <p class="context" data-testid="context">${escapeHtml(user.fullName)} · ${escapeHtml(org.name)} · Opportunity <span data-testid="record">${escapeHtml(page.recordName ?? page.recordId)}</span></p>
</header>
<main>
${savedBlock}
${problemBlock}
<form method="post" action="${CANVAS_PATH}/quote" class="picker">
  ${hidden}
  <label>Product <select name="productCode" required>${options}</select></label>
  <label>Quantity <input type="number" name="quantity" min="1" max="100000" step="1" value="${quantity}" required></label>
  <button type="submit">Price it</button>
</form>
<details><summary>Volume discounts</summary><ul>${tiers}</ul></details>
${quoteBlock}
</main>`;
  return layout('ERP pricing', body, head);
}

/** The 4xx/5xx page: what went wrong, its code and the correlation id to quote to the ERP team. */
export function renderProblemPage(
  status: number,
  code: string,
  message: string,
  correlationId: string
): string {
  return layout(
    `ERP pricing — ${status}`,
    `<main class="rejected">
  <h1>The ERP pricing tool cannot open</h1>
  <p role="alert" data-testid="problem"><strong>${escapeHtml(code)}</strong> ${escapeHtml(message)}</p>
  <p class="meta">HTTP ${status} · correlation id <code>${escapeHtml(correlationId)}</code></p>
</main>`
  );
}
