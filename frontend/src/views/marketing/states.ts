/** Tag colours of the outreach states (the labels come from the server or the locale file). */
export type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'info'

const TYPES: Record<string, TagType> = {
  listed: 'info', not_reached: 'warning', not_interested: 'info', interested: 'primary',
  visit_scheduled: 'primary', visited: 'primary', authorized: 'success',
}

export const stateType = (state: string): TagType => TYPES[state] ?? 'info'
