import 'element-plus/dist/index.css'
import './styles.css'

import * as Icons from '@element-plus/icons-vue'
import ElementPlus from 'element-plus'
import { createPinia } from 'pinia'
import { createApp } from 'vue'

import App from './App.vue'
import { i18n } from './locales'
import { router } from './router'

const app = createApp(App)
for (const [name, component] of Object.entries(Icons)) app.component(name, component)
app.use(createPinia())
app.use(i18n)
app.use(ElementPlus)
app.use(router)
app.config.errorHandler = (error) => {
  console.error(error)
}
app.mount('#app')
