/**
 * API handlers of DatDot apps (contract-apps.ts; main/engine/apps.ts): the apps list, code
 * files, history, previews and permissions, and the app API scoped to one app (its data drive,
 * the drives it followed, a payment from this node's wallet when the chain is on).
 */
import type { Handlers } from '../shared/contract.js'
import type { appMethods } from '../shared/contract-apps.js'
import type { Engine } from '../engine/engine.js'
import type { ChainService } from '../chain/service.js'
import { DatdotError } from '../shared/errors.js'

export type AppsHandlers = Pick<Handlers, keyof typeof appMethods>

/** `chain` gives the node's chain client (started on demand), or null on a node without one. */
export function createAppsHandlers (engine: Engine, chain: () => Promise<ChainService | null>): AppsHandlers {
  const apps = (): Engine['apps'] => {
    engine.assertOpen()
    return engine.apps
  }
  return {
    listApps: async () => ({ apps: await apps().list() }),
    createApp: async ({ name, template }) => apps().create(name, template),
    openAppLink: async ({ link }) => apps().openLink(link),
    forkApp: async ({ app, name }) => apps().fork(app, name),
    removeApp: async ({ app, keepData }) => { await apps().remove(app, keepData); return { ok: true as const } },
    listAppFiles: async ({ app, version }) => apps().listFiles(app, version),
    readAppFile: async ({ app, path, version }) => apps().readFile(app, path, version),
    saveAppFiles: async ({ app, files, deleted }) => apps().saveFiles(app, files, deleted),
    appHistory: async ({ app }) => apps().history(app),
    revertApp: async ({ app, version }) => apps().revert(app, version),
    startAppPreview: async ({ app, version }) => apps().startPreview(app, version),
    stopAppPreview: async ({ cap }) => { apps().stopPreview(cap); return { ok: true as const } },
    setAppPermission: async ({ app, permission, granted }) => apps().setPermission(app, permission, granted),
    appDataList: async ({ app, path }) => apps().data.list(app, path),
    appDataRead: async ({ app, path, encoding }) => apps().data.read(app, path, encoding),
    appDataWrite: async ({ app, path, data, encoding }) => apps().data.write(app, path, data, encoding),
    appDataDelete: async ({ app, path }) => apps().data.delete(app, path),
    appDataLink: async ({ app }) => apps().data.link(app),
    appFollow: async ({ app, link }) => apps().data.follow(app, link),
    appFollowedList: async ({ app, key, path }) => apps().data.followedList(app, key, path),
    appFollowedRead: async ({ app, key, path, encoding }) => apps().data.followedRead(app, key, path, encoding),
    appPay: async ({ app, to, amount }) => {
      apps().assertGranted(app, 'payments')
      const planck = BigInt(amount)
      if (planck <= 0n) throw DatdotError.invalidArgument('the amount must be positive')
      const client = await chain()
      if (client === null) throw DatdotError.forbidden('payments need the chain: this node runs without one (start it with a chain to pay from its wallet)')
      const r = await client.transfer(to, planck)
      return { ok: true as const, blockHash: r.blockHash }
    }
  }
}
