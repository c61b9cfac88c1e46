/**
 * The one formatting module: 元 and 万元 (2 decimals, thousands separators), dates
 * (YYYY-MM-DD in Asia/Shanghai), percentages. Amounts arrive from the API as decimal strings
 * ("1340000.00"); they are rounded here with integer arithmetic, never through a float, so a
 * figure on screen is the figure in the database.
 */

export const EMPTY = '—'
const TIME_ZONE = 'Asia/Shanghai'
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/

type Amount = string | number | null | undefined

/** The amount in fen (1/100 元) as a BigInt, rounded half away from zero; null if not a number. */
export function toFen(value: Amount): bigint | null {
  if (value === null || value === undefined || value === '') return null
  let text: string
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null
    text = value.toFixed(6)
  } else {
    text = value.trim()
  }
  const match = DECIMAL.exec(text)
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return null
  const negative = match[1] === '-'
  const whole = match[2] || '0'
  const fraction = (match[3] ?? '').padEnd(3, '0')
  let fen = BigInt(whole) * 100n + BigInt(fraction.slice(0, 2))
  if (fraction.charCodeAt(2) >= '5'.charCodeAt(0)) fen += 1n
  return negative ? -fen : fen
}

function divideRounded(value: bigint, by: bigint): bigint {
  const negative = value < 0n
  const magnitude = negative ? -value : value
  const quotient = (magnitude * 2n + by) / (by * 2n)
  return negative ? -quotient : quotient
}

function grouped(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** Hundredths (fen, or 0.01 万元) as "-1,234.56". */
function hundredths(value: bigint): string {
  const negative = value < 0n
  const text = (negative ? -value : value).toString().padStart(3, '0')
  const body = `${grouped(text.slice(0, -2))}.${text.slice(-2)}`
  return negative && value !== 0n ? `-${body}` : body
}

/** 1340000 -> "1,340,000.00" (元). Blank values show as "—". */
export function yuan(value: Amount): string {
  const fen = toFen(value)
  return fen === null ? EMPTY : hundredths(fen)
}

/** 1340000 -> "134.00" (万元), rounded half away from zero to 0.01 万元 (100 元). */
export function wanYuan(value: Amount): string {
  const fen = toFen(value)
  return fen === null ? EMPTY : hundredths(divideRounded(fen, 10000n))
}

const dateParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
})

function parts(value: string | Date): Record<string, string> | null {
  const when = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(when.getTime())) return null
  return Object.fromEntries(dateParts.formatToParts(when).map((p) => [p.type, p.value]))
}

const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/

/** An ISO date or time as "YYYY-MM-DD", the calendar day in Shanghai. */
export function date(value: string | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return EMPTY
  if (typeof value === 'string' && PLAIN_DATE.test(value)) return value
  const p = parts(value)
  return p ? `${p.year}-${p.month}-${p.day}` : EMPTY
}

/** An ISO time as "YYYY-MM-DD HH:mm" in Shanghai. */
export function dateTime(value: string | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return EMPTY
  const p = parts(value)
  return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` : EMPTY
}

/** 0.1234 -> "12.34%". */
export function percent(ratio: number | null | undefined, digits = 2): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return EMPTY
  return `${(ratio * 100).toFixed(digits)}%`
}

/** Whole numbers with thousands separators: 12345 -> "12,345". */
export function count(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return EMPTY
  const rounded = Math.round(value)
  return (rounded < 0 ? '-' : '') + grouped(Math.abs(rounded).toString())
}
