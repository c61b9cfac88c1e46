/**
 * Date-range presets for query forms (今天, 本周, 本月, 上月, 近12个月), computed from the
 * server's today (`/api/me`: the demo runs on a simulated clock), as `YYYY-MM-DD` pairs.
 * Weeks run Monday to Sunday, as on the Chinese calendar at work.
 */

export type Preset = 'today' | 'thisWeek' | 'thisMonth' | 'lastMonth' | 'last12Months'
export const PRESETS: Preset[] = ['today', 'thisWeek', 'thisMonth', 'lastMonth', 'last12Months']

function parse(day: string): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d))
}

function iso(when: Date): string {
  return when.toISOString().slice(0, 10)
}

function addDays(when: Date, days: number): Date {
  return new Date(when.getTime() + days * 86_400_000)
}

export function presetRange(preset: Preset, today: string): [string, string] {
  const now = parse(today)
  const y = now.getUTCFullYear()
  const m = now.getUTCMonth()
  switch (preset) {
    case 'today':
      return [today, today]
    case 'thisWeek': {
      const monday = addDays(now, -((now.getUTCDay() + 6) % 7))
      return [iso(monday), iso(addDays(monday, 6))]
    }
    case 'thisMonth':
      return [iso(new Date(Date.UTC(y, m, 1))), iso(new Date(Date.UTC(y, m + 1, 0)))]
    case 'lastMonth':
      return [iso(new Date(Date.UTC(y, m - 1, 1))), iso(new Date(Date.UTC(y, m, 0)))]
    case 'last12Months':
      return [iso(new Date(Date.UTC(y, m - 11, 1))), today]
  }
}
