/** The dashboard 工作台 (§4.2): every figure carries the link to the rows behind it. */
import { get } from './request'
import type { Schemas } from './types'

export type Dashboard = Schemas['DashboardOut']

export const fetchDashboard = () => get<Dashboard>('/dashboard')
