/**
 * The messages between a running DatDot app (in its sandboxed, opaque-origin frame) and the host
 * page that runs it, carried by postMessage. The frame's side is main/shared/app-runtime.ts (the
 * `datdot` object and console capture injected into every app page); the host's side is
 * renderer/src/lib/app-bridge.ts, which validates every message with these schemas, checks the
 * app's permission (BRIDGE_PERMISSION) and calls the app* API methods (contract-apps.ts).
 *
 * Free of Node and Electron imports: bundled into the renderer.
 */
import { z } from 'zod'
import { Amount, DrivePath } from './contract-base.js'
import type { AppPermission } from './contract-apps.js'

const Encoding = z.enum(['utf8', 'base64']).default('utf8')
const Key = z.string().min(1).max(128)
const Link = z.string().min(1).max(8192)

/** Every call an app can make: its name and its arguments. */
export const bridgeCalls = {
  'vault.list': z.object({ path: DrivePath.default('/') }).strict(),
  'vault.read': z.object({ path: DrivePath, encoding: Encoding }).strict(),
  'vault.write': z.object({ path: DrivePath, data: z.string(), encoding: Encoding }).strict(),
  'vault.delete': z.object({ path: DrivePath }).strict(),
  /** Share the app's data drive; the host asks the user first. */
  'vault.link': z.object({}).strict(),
  'vault.watch': z.object({}).strict(),
  /** Follow a drive; the host asks the user first. */
  'p2p.follow': z.object({ link: Link }).strict(),
  'p2p.list': z.object({ key: Key, path: DrivePath.default('/') }).strict(),
  'p2p.read': z.object({ key: Key, path: DrivePath, encoding: Encoding }).strict(),
  'p2p.watch': z.object({ key: Key }).strict(),
  'chain.status': z.object({}).strict(),
  'chain.balance': z.object({}).strict(),
  /** The host shows its own confirmation dialog every time. */
  'chain.requestPayment': z.object({ to: z.string().min(1).max(128), amount: Amount, memo: z.string().max(256).default('') }).strict(),
  'chain.requestSponsor': z.object({ replicas: z.number().int().min(1).max(8).default(3), days: z.number().int().min(1).max(3650).default(30), price: Amount }).strict()
} as const
export type BridgeCallName = keyof typeof bridgeCalls

/** The permission each call needs. */
export const BRIDGE_PERMISSION: Record<BridgeCallName, AppPermission> = {
  'vault.list': 'vault',
  'vault.read': 'vault',
  'vault.write': 'vault',
  'vault.delete': 'vault',
  'vault.link': 'vault',
  'vault.watch': 'vault',
  'p2p.follow': 'p2p',
  'p2p.list': 'p2p',
  'p2p.read': 'p2p',
  'p2p.watch': 'p2p',
  'chain.status': 'chain',
  'chain.balance': 'chain',
  'chain.requestPayment': 'payments',
  'chain.requestSponsor': 'payments'
}

/** Every message carries this tag, so the host ignores anything else posted to it. */
export const BRIDGE_TAG = 'datdot-app/1'

export const ConsoleLevel = z.enum(['log', 'info', 'warn', 'error', 'debug'])

/** Frame -> host. */
export const FrameMessage = z.discriminatedUnion('type', [
  z.object({ tag: z.literal(BRIDGE_TAG), type: z.literal('ready') }).strict(),
  z.object({ tag: z.literal(BRIDGE_TAG), type: z.literal('call'), id: z.number().int().nonnegative(), method: z.string().max(64), args: z.unknown() }).strict(),
  z.object({
    tag: z.literal(BRIDGE_TAG),
    type: z.literal('console'),
    level: ConsoleLevel,
    /** Each argument already turned into text by the runtime (bounded). */
    args: z.array(z.string().max(16_384)).max(32),
    /** For uncaught errors and rejections: where it happened. */
    source: z.string().max(1024).optional(),
    line: z.number().int().nonnegative().optional(),
    column: z.number().int().nonnegative().optional(),
    kind: z.enum(['console', 'error', 'rejection']).default('console')
  }).strict()
])
export type FrameMessage = z.infer<typeof FrameMessage>

/** Host -> frame. */
export type HostMessage =
  | { tag: typeof BRIDGE_TAG, type: 'result', id: number, ok: true, value: unknown }
  | { tag: typeof BRIDGE_TAG, type: 'result', id: number, ok: false, error: { code: string, message: string } }
  | { tag: typeof BRIDGE_TAG, type: 'event', name: 'vault.changed' | 'p2p.changed', data: unknown }
