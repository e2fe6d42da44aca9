import { act, render } from "@testing-library/react";
import type { ReactElement } from "react";
import { AppProvider } from "../state/context";
import { createAppStore, type AppStore } from "../state/store";
import { createFakeApi, manualScheduler, type FakeApi } from "./fakeApi";

/** Renders UI around a fake back end with a store whose token frames the test runs by hand. */
export async function renderWithStore(ui: ReactElement, api: FakeApi = createFakeApi(), init = true) {
  const frames = manualScheduler();
  const store: AppStore = createAppStore(api, { scheduler: frames.schedule, stopGraceMs: 2000 });
  if (init) await store.getState().init();
  const result = render(
    <AppProvider store={store} api={api}>
      {ui}
    </AppProvider>,
  );
  return { ...result, api, store, frames };
}

/** Gives elements with the given test id a fixed client size (jsdom has no layout). */
export function fakeViewport(testId: string, height: number, width = 800) {
  const h = Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientHeight");
  const w = Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientWidth");
  Object.defineProperty(HTMLElement.prototype, "clientHeight", {
    configurable: true,
    get(this: HTMLElement) {
      return this.dataset?.testid === testId ? height : (h?.get?.call(this) ?? 0);
    },
  });
  Object.defineProperty(HTMLElement.prototype, "clientWidth", {
    configurable: true,
    get(this: HTMLElement) {
      return this.dataset?.testid === testId ? width : (w?.get?.call(this) ?? 0);
    },
  });
  // A minimal scroll model for that element: scrollTop is stored (clamped), scrollHeight is its
  // content's height, and scrollTo / setting scrollTop fire "scroll" as a browser would.
  const top = Object.getOwnPropertyDescriptor(Element.prototype, "scrollTop");
  const sh = Object.getOwnPropertyDescriptor(Element.prototype, "scrollHeight");
  const scrollTo = Element.prototype.scrollTo;
  const offsets = new WeakMap<Element, number>();
  const isTarget = (el: Element) => (el as HTMLElement).dataset?.testid === testId;
  const contentHeight = (el: Element) =>
    parseFloat((el.firstElementChild as HTMLElement | null)?.style.height ?? "0") || 0;
  const setTop = (el: Element, v: number) => {
    const clamped = Math.max(0, Math.min(v, contentHeight(el) - height));
    if (offsets.get(el) === clamped) return;
    offsets.set(el, clamped);
    // browsers fire scroll events asynchronously
    queueMicrotask(() => act(() => void el.dispatchEvent(new Event("scroll"))));
  };
  Object.defineProperty(Element.prototype, "scrollTop", {
    configurable: true,
    get(this: Element) {
      return isTarget(this) ? (offsets.get(this) ?? 0) : (top?.get?.call(this) ?? 0);
    },
    set(this: Element, v: number) {
      if (isTarget(this)) setTop(this, v);
      else top?.set?.call(this, v);
    },
  });
  Object.defineProperty(Element.prototype, "scrollHeight", {
    configurable: true,
    get(this: Element) {
      return isTarget(this) ? contentHeight(this) : (sh?.get?.call(this) ?? 0);
    },
  });
  Element.prototype.scrollTo = function (this: Element, a?: ScrollToOptions | number, b?: number) {
    if (!isTarget(this)) return;
    const y = typeof a === "number" ? (b ?? 0) : (a?.top ?? 0);
    setTop(this, y);
  } as typeof Element.prototype.scrollTo;
  return () => {
    if (h) Object.defineProperty(HTMLElement.prototype, "clientHeight", h);
    if (w) Object.defineProperty(HTMLElement.prototype, "clientWidth", w);
    if (top) Object.defineProperty(Element.prototype, "scrollTop", top);
    if (sh) Object.defineProperty(Element.prototype, "scrollHeight", sh);
    Element.prototype.scrollTo = scrollTo;
  };
}

/** Gives elements with a class a fixed offsetHeight (what the virtualizer measures rows with). */
export function fakeRowHeight(className: string, height: number) {
  const d = Object.getOwnPropertyDescriptor(HTMLElement.prototype, "offsetHeight");
  Object.defineProperty(HTMLElement.prototype, "offsetHeight", {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList?.contains(className) ? height : (d?.get?.call(this) ?? 0);
    },
  });
  return () => {
    if (d) Object.defineProperty(HTMLElement.prototype, "offsetHeight", d);
  };
}
