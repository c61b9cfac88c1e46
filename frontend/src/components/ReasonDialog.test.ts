// @vitest-environment happy-dom
/** The one reason dialog: required, limited, busy, and what it emits. Mounted with the real
 * Element Plus and the real messages; the dialog teleports to <body>, so it is read there. */
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, ref } from 'vue'

import ReasonDialog from '@/components/ReasonDialog.vue'
import { i18n } from '@/locales'

const byId = (id: string): HTMLElement => {
  const el = document.body.querySelector<HTMLElement>(`[data-testid="${id}"]`)
  if (!el) throw new Error(`no [data-testid=${id}] in the page`)
  return el
}
const reasonBox = (): HTMLTextAreaElement => byId('x-reason') as HTMLTextAreaElement

async function type(text: string): Promise<void> {
  const box = reasonBox()
  box.value = text
  box.dispatchEvent(new Event('input'))
  await flushPromises()
}

/** Element Plus shows a form item's message 100 ms after its state turns to error (a
 * debounce); the timers are fake, so the test moves them instead of waiting. */
async function settle(): Promise<void> {
  await flushPromises()
  vi.advanceTimersByTime(150)
  await flushPromises()
}

async function click(id: string): Promise<void> {
  byId(id).click()
  await settle()
}

const mounted: { unmount: () => void }[] = []

function host(props: Record<string, unknown> = {}, slot?: () => unknown) {
  const open = ref(true)
  const submitted: string[] = []
  const wrapper = mount(defineComponent({
    setup: () => () => h(ReasonDialog, {
      title: '放行', testid: 'x', modelValue: open.value,
      'onUpdate:modelValue': (v: boolean) => { open.value = v },
      onSubmit: (reason: string) => { submitted.push(reason) },
      ...props,
    }, slot ? { default: slot } : undefined),
  }), { attachTo: document.body, global: { plugins: [ElementPlus, i18n] } })
  mounted.push(wrapper)
  return { wrapper, open, submitted }
}

beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }) })

afterEach(() => {
  vi.useRealTimers()
  mounted.splice(0).forEach((w) => w.unmount())
  document.body.innerHTML = ''
  i18n.global.locale.value = 'zh-CN'
})

describe('ReasonDialog', () => {
  it('refuses an empty or blank reason beside the field and emits nothing', async () => {
    const { submitted } = host()
    await flushPromises()
    await click('x-submit')
    expect(byId('x-dialog').textContent).toContain('理由须包含可见文字')
    await type('   \n ')
    await click('x-submit')
    expect(submitted).toEqual([])
    expect(byId('x-dialog').querySelector('.is-required')).not.toBeNull()
  })

  it('emits the trimmed reason and clears its own message', async () => {
    const { submitted } = host()
    await flushPromises()
    await click('x-submit')
    await type('  招牌为简称，与医保登记一致 ')
    await click('x-submit')
    expect(submitted).toEqual(['招牌为简称，与医保登记一致'])
    expect(byId('x-dialog').textContent).not.toContain('须包含可见文字')
  })

  it('holds the reason to its limit and says so in English too', async () => {
    i18n.global.locale.value = 'en-US'
    const { submitted } = host({ maxlength: 5 })
    await flushPromises()
    expect(reasonBox().getAttribute('maxlength')).toBe('5')
    await type('abcdefg')  // pasted past the box's limit
    await click('x-submit')
    expect(submitted).toEqual([])
    expect(byId('x-dialog').textContent).toContain('The reason may have at most 5 characters')
    await type('abcde')
    await click('x-submit')
    expect(submitted).toEqual(['abcde'])
  })

  it('is inert while busy: no second submit, the reason and cancel disabled', async () => {
    const { submitted, open } = host({ busy: true })
    await flushPromises()
    await type('有理由')
    await click('x-submit')
    expect(submitted).toEqual([])
    expect(reasonBox().disabled).toBe(true)
    expect((byId('x-cancel') as HTMLButtonElement).disabled).toBe(true)
    expect(byId('x-submit').classList.contains('is-loading')).toBe(true)
    expect(open.value).toBe(true)
  })

  it('shows the server message, closes on cancel, and starts empty when opened again', async () => {
    const { open } = host({ error: '理由须为2-500字' })
    await settle()
    expect(byId('x-dialog').textContent).toContain('理由须为2-500字')
    await type('旧的理由')
    await click('x-cancel')
    expect(open.value).toBe(false)
    open.value = true
    await flushPromises()
    expect(reasonBox().value).toBe('')
  })

  it('names the reason field as the caller asks, 理由 by default', async () => {
    host()
    await flushPromises()
    expect(byId('x-dialog').querySelector('label')?.textContent).toBe('理由')
    mounted.splice(0).forEach((w) => w.unmount())
    document.body.innerHTML = ''
    host({ label: '重试原因（将记入审计日志）' })
    await flushPromises()
    expect(byId('x-dialog').querySelector('label')?.textContent).toBe('重试原因（将记入审计日志）')
  })

  it('puts extra fields from the slot above the reason, inside the same form', async () => {
    host({}, () => h('input', { 'data-testid': 'x-target' }))
    await flushPromises()
    const target = byId('x-target')
    expect(target.closest('form')).toBe(reasonBox().closest('form'))
    expect(target.compareDocumentPosition(reasonBox()) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()
  })
})
