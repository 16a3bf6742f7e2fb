/**
 * Creating a @polkadot/api ApiPromise quietly. Given no metadata, ApiPromise asks the runtime for
 * it and, on a runtime without MetadataApi v2 (the local Asset Hub runtime is one), prints
 * 'API/INIT: MetadataApi not available, rpc::state::get_metadata will be used.' on the console for
 * every connection, with no option to turn that off. Fetching the metadata first (the same
 * state_getMetadata call ApiPromise would make) and passing it as the documented `metadata` option
 * skips that path: the engine does not log, and DatDot's own output stays one line per event.
 */
import { ApiPromise } from '@polkadot/api'
import type { ApiOptions } from '@polkadot/api/types'
import type { ProviderInterface } from '@polkadot/rpc-provider/types'
import type { HexString } from '@polkadot/util/types'

/** The chain's current metadata keyed as ApiPromise's `metadata` option expects: `${genesisHash}-${specVersion}`. */
export async function fetchMetadata (provider: ProviderInterface, throwOnConnect = false): Promise<Record<string, HexString>> {
  const ready = (provider as ProviderInterface & { isReady?: Promise<unknown> }).isReady
  if (ready !== undefined && !provider.isConnected) {
    // Like ApiPromise's throwOnConnect: a connection error rejects instead of waiting for a retry.
    let off = (): void => {}
    try {
      await Promise.race([ready, ...(throwOnConnect ? [new Promise<never>((_, reject) => { off = provider.on('error', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err)))) })] : [])])
    } finally { off() }
  }
  const [genesis, version, metadata] = await Promise.all([
    provider.send<string>('chain_getBlockHash', [0]),
    provider.send<{ specVersion: number }>('state_getRuntimeVersion', []),
    provider.send<HexString>('state_getMetadata', [])
  ])
  return { [`${genesis}-${version.specVersion}`]: metadata }
}

/** An ApiPromise on `provider` (not awaited: wait on isReady / isReadyOrError) that prints nothing while it initialises. */
export async function createApi (provider: ProviderInterface, options: Omit<ApiOptions, 'provider' | 'metadata' | 'noInitWarn'> = {}): Promise<ApiPromise> {
  const metadata = await fetchMetadata(provider, options.throwOnConnect === true)
  return new ApiPromise({ ...options, provider, metadata, noInitWarn: true })
}
