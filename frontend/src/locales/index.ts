/**
 * vue-i18n: Chinese first (zh-CN), English (en-US). One JSON file per area and language under
 * `langs/<locale>/<area>.json`, addressed as `t('<area>.<key>')`. The user's choice is saved
 * through the API (`PUT /api/me/locale`) and applied from `/api/me` at log-in.
 */
import { createI18n } from 'vue-i18n'

export const LOCALES = ['zh-CN', 'en-US'] as const
export type Locale = (typeof LOCALES)[number]

type Messages = Record<string, Record<string, unknown>>

const files = import.meta.glob<Record<string, unknown>>('./langs/*/*.json', { eager: true, import: 'default' })

function collect(): Record<Locale, Messages> {
  const out: Record<Locale, Messages> = { 'zh-CN': {}, 'en-US': {} }
  for (const [path, content] of Object.entries(files)) {
    const match = /\.\/langs\/([^/]+)\/([^/]+)\.json$/.exec(path)
    if (!match) continue
    const [, locale, area] = match as unknown as [string, Locale, string]
    if (out[locale]) out[locale][area] = content
  }
  return out
}

const STORAGE_KEY = 'yibaodai.locale'

function initial(): Locale {
  const saved = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE_KEY)
  return (LOCALES as readonly string[]).includes(saved ?? '') ? (saved as Locale) : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'zh-CN',
  messages: collect(),
  missingWarn: false,
  fallbackWarn: false,
})

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

/** Switch the interface language (the caller saves it for the user through the API). */
export function applyLocale(locale: string | null | undefined): void {
  const next: Locale = (LOCALES as readonly string[]).includes(locale ?? '') ? (locale as Locale) : 'zh-CN'
  i18n.global.locale.value = next
  document.documentElement.lang = next
  localStorage.setItem(STORAGE_KEY, next)
}

/** Pick the label of the user's language from a `{label_zh, label_en}` or `{x_zh, x_en}` pair. */
export function pick(zh: string | null | undefined, en: string | null | undefined): string {
  return (currentLocale() === 'en-US' ? en || zh : zh || en) ?? ''
}
