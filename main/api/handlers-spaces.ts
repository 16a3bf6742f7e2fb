/**
 * API handlers of the vault's spaces: list, create, rename or change visibility, delete, and
 * copy or move files between spaces (main/engine/spaces.ts).
 */
import type { Handlers } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'
import { waitIf } from './handlers-drives.js'

export type SpaceHandlers = Pick<Handlers, 'listSpaces' | 'createSpace' | 'updateSpace' | 'deleteSpace' | 'transferPath'>

export function createSpaceHandlers (engine: Engine): SpaceHandlers {
  return {
    async listSpaces () {
      engine.assertOpen()
      return engine.spaces.list()
    },
    async createSpace ({ name, visibility }) {
      engine.assertOpen()
      return engine.spaces.create(name, visibility)
    },
    async updateSpace ({ space, name, visibility }) {
      engine.assertOpen()
      return engine.spaces.update(space, { name, visibility })
    },
    async deleteSpace ({ space }) {
      engine.assertOpen()
      await engine.spaces.delete(space)
      return { ok: true as const }
    },
    async transferPath ({ from, path, to, into, move, wait }) {
      engine.assertOpen()
      return waitIf(wait, engine.spaces.transfer({ from, path, to, into, move }))
    }
  }
}
