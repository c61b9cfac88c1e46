/// <reference types="vitest/config" />
// Build into the Python package's static folder, so `pip install` ships the platform and
// FastAPI serves it (history fallback) on the same origin as the API: no CORS, no CDN.
import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

const bank = process.env.YIBAODAI_DEV_API ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue()],
  base: '/',
  define: {
    // vue-i18n's esm-bundler flags: Composition API only, no devtools in production.
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    outDir: fileURLToPath(new URL('../src/yibaodai/web/static/app', import.meta.url)),
    emptyOutDir: true,
    // bench/frontend_size.py reads the manifest to weigh what the first page loads.
    manifest: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` against a running `yibaodai serve`.
    proxy: { '/api': { target: bank, changeOrigin: false } },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
