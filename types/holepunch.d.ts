// Our own typings for the Holepunch modules we use (they ship none).
// Only what DatDot calls is declared; widen as the code needs more.

declare module 'b4a' {
  const b4a: {
    from (input: string | ArrayLike<number> | ArrayBufferView | ArrayBuffer, encoding?: string): Buffer
    toString (buf: Uint8Array, encoding?: string): string
    alloc (size: number, fill?: number): Buffer
    allocUnsafe (size: number): Buffer
    equals (a: Uint8Array, b: Uint8Array): boolean
    concat (list: Uint8Array[]): Buffer
    isBuffer (v: unknown): v is Buffer
    byteLength (s: string): number
  }
  export default b4a
}

declare module 'hypercore-crypto' {
  export interface KeyPair { publicKey: Buffer, secretKey: Buffer }
  const crypto: {
    keyPair (seed?: Uint8Array): KeyPair
    sign (message: Uint8Array, secretKey: Uint8Array): Buffer
    verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean
    discoveryKey (publicKey: Uint8Array): Buffer
    randomBytes (n: number): Buffer
    hash (data: Uint8Array | Uint8Array[], out?: Uint8Array): Buffer
    data (data: Uint8Array): Buffer
    parent (a: { index: number, size: number, hash: Uint8Array }, b: { index: number, size: number, hash: Uint8Array }): Buffer
    tree (roots: Array<{ index: number, size: number, hash: Uint8Array }>, out?: Uint8Array): Buffer
  }
  export default crypto
}

declare module 'hypercore-id-encoding' {
  export function encode (key: Uint8Array): string
  export function decode (id: string | Uint8Array): Buffer
  export function normalize (id: string | Uint8Array): string
  export function isValid (id: unknown): boolean
}

declare module 'hypercore' {
  import { EventEmitter } from 'node:events'
  import type { Readable } from 'node:stream'

  export interface Peer {
    remotePublicKey: Buffer
    stream: unknown
    /** How many blocks the peer says it has (0 until it tells, or when it has none). */
    remoteLength: number
  }

  export interface Download {
    done (): Promise<void>
    destroy (): void
  }

  export interface HypercoreInfo {
    key: Buffer
    discoveryKey: Buffer
    length: number
    contiguousLength: number
    byteLength: number
    fork: number
    padding: number
    storage?: { oplog: number, tree: number, blocks: number, bitfield: number }
  }

  export default class Hypercore extends EventEmitter {
    constructor (storage: unknown, key?: Uint8Array | null, opts?: Record<string, unknown>)
    readonly key: Buffer | null
    readonly id: string | null
    readonly discoveryKey: Buffer | null
    readonly keyPair: { publicKey: Buffer, secretKey: Buffer | null } | null
    readonly length: number
    readonly contiguousLength: number
    readonly byteLength: number
    readonly fork: number
    readonly writable: boolean
    readonly readable: boolean
    readonly opened: boolean
    readonly closed: boolean
    readonly peers: Peer[]
    readonly signedLength: number
    ready (): Promise<void>
    close (): Promise<void>
    get (index: number, opts?: { wait?: boolean, timeout?: number, valueEncoding?: unknown }): Promise<Buffer | null>
    has (start: number, end?: number): Promise<boolean>
    append (block: Uint8Array | Uint8Array[]): Promise<{ length: number, byteLength: number }>
    update (opts?: { wait?: boolean }): Promise<boolean>
    download (range?: { start?: number, end?: number, blocks?: number[], linear?: boolean }): Download
    treeHash (length?: number): Promise<Buffer>
    info (opts?: { storage?: boolean }): Promise<HypercoreInfo>
    findingPeers (): () => void
    createReadStream (opts?: Record<string, unknown>): Readable
    session (opts?: Record<string, unknown>): Hypercore
    replicate (isInitiatorOrStream: unknown, opts?: Record<string, unknown>): unknown
    generateRemoteProofForTreeNode? (...args: unknown[]): unknown
    /** Merkle proof of a block and/or an upgrade, in hypercore's wire format (used by main/hosting/proof.ts). */
    proof (opts: { block?: { index: number, nodes: number } | null, upgrade?: { start: number, length: number } | null }): Promise<{
      fork: number
      block: { index: number, value: Buffer | null, nodes: Array<{ index: number, size: number, hash: Buffer }> } | null
      upgrade: { start: number, length: number, nodes: Array<{ index: number, size: number, hash: Buffer }>, additionalNodes: Array<{ index: number, size: number, hash: Buffer }>, signature: Buffer | null } | null
    }>
    getManifest (opts?: { raw?: boolean }): Buffer | null
    clear (start: number, end?: number): Promise<unknown>
    static key (manifest: unknown): Buffer
    /** The RocksDB storage (hypercore-storage) a Corestore opens on a folder; `opts` go to RocksDB (e.g. writeBufferSize). */
    static defaultStorage (dir: string, opts?: Record<string, unknown>): object
  }
}

declare module 'corestore' {
  import { EventEmitter } from 'node:events'
  import type Hypercore from 'hypercore'

  export default class Corestore extends EventEmitter {
    constructor (storage: string | object, opts?: Record<string, unknown>)
    readonly opened: boolean
    readonly closed: boolean
    /** The key every other key is derived from (set once ready). */
    readonly primaryKey: Buffer
    ready (): Promise<void>
    close (): Promise<void>
    get (opts: { name: string } | { key: Uint8Array } | Uint8Array | Record<string, unknown>): Hypercore
    namespace (name: string): Corestore
    session (opts?: Record<string, unknown>): Corestore
    replicate (isInitiatorOrStream: unknown, opts?: Record<string, unknown>): unknown
    createKeyPair (name: string): Promise<{ publicKey: Buffer, secretKey: Buffer }>
  }
}

declare module 'hyperbee' {
  import type { Readable } from 'node:stream'
  export interface BeeNode<V = unknown> { seq: number, key: string, value: V, type?: 'put' | 'del' }
  export default class Hyperbee {
    readonly version: number
    readonly core: import('hypercore').default
    get (key: string): Promise<BeeNode | null>
    /** Block 0 decoded: throws DECODING_ERROR when it is not a Hyperbee header (e.g. encrypted and read without its key). */
    getHeader (opts?: { wait?: boolean }): Promise<{ protocol: string, metadata?: unknown } | null>
    put (key: string, value?: unknown, opts?: Record<string, unknown>): Promise<void>
    createHistoryStream (opts?: { reverse?: boolean, limit?: number, gt?: number, gte?: number, lt?: number, lte?: number, live?: boolean }): Readable & AsyncIterable<BeeNode>
  }
}

declare module 'hyperdrive' {
  import { EventEmitter } from 'node:events'
  import type { Readable, Writable } from 'node:stream'
  import type Hypercore from 'hypercore'
  import type Corestore from 'corestore'

  export interface BlobPointer { blockOffset: number, blockLength: number, byteOffset: number, byteLength: number }
  export interface EntryValue {
    executable: boolean
    linkname: string | null
    blob: BlobPointer | null
    metadata: unknown
  }
  export interface Entry { seq: number, key: string, value: EntryValue }
  export interface DiffItem { left: Entry | null, right: Entry | null }

  export interface Blobs {
    readonly core: Hypercore
  }

  export default class Hyperdrive extends EventEmitter {
    constructor (store: Corestore, key?: Uint8Array | null, opts?: Record<string, unknown>)
    /** The blobs core's key, derived from the metadata core's manifest (null for compat cores): no decryption needed. */
    static getContentKey (core: Hypercore): Buffer | null
    readonly encryptionKey: Buffer | null
    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly core: Hypercore
    readonly db: import('hyperbee').default
    readonly blobs: Blobs | null
    readonly version: number
    readonly writable: boolean
    readonly readable: boolean
    readonly opened: boolean
    readonly closed: boolean
    readonly corestore: Corestore
    ready (): Promise<void>
    close (): Promise<void>
    update (opts?: { wait?: boolean }): Promise<boolean>
    getBlobs (): Promise<Blobs | null>
    getBlobsLength (version?: number): Promise<number>
    entry (path: string, opts?: { wait?: boolean, timeout?: number }): Promise<Entry | null>
    exists (path: string): Promise<boolean>
    /** True when the file (or every file of the folder) has its contents on this disk. */
    has (path: string): Promise<boolean>
    get (path: string, opts?: Record<string, unknown>): Promise<Buffer | null>
    put (path: string, data: Uint8Array | string, opts?: { executable?: boolean, metadata?: unknown }): Promise<void>
    del (path: string): Promise<void>
    putEntry (path: string, value: { executable: boolean, linkname: string | null, blob: BlobPointer | null, metadata: unknown }): Promise<void>
    symlink (path: string, target: string): Promise<void>
    list (folder?: string, opts?: { recursive?: boolean, ignore?: unknown }): Readable & AsyncIterable<Entry>
    readdir (folder?: string, opts?: Record<string, unknown>): Readable & AsyncIterable<string>
    entries (range?: Record<string, unknown>, opts?: Record<string, unknown>): Readable & AsyncIterable<Entry>
    diff (version: number, folder?: string, opts?: Record<string, unknown>): Readable & AsyncIterable<DiffItem>
    checkout (version: number): Hyperdrive
    batch (): Hyperdrive
    flush (): Promise<void>
    download (folder?: string, opts?: Record<string, unknown>): Promise<void> | { done (): Promise<void> }
    createReadStream (path: string, opts?: { start?: number, end?: number, length?: number, wait?: boolean, timeout?: number }): Readable
    createWriteStream (path: string, opts?: { executable?: boolean, metadata?: unknown }): Writable
    purge (): Promise<void>
    truncate? (version: number): Promise<void>
  }
}

declare module 'hyperswarm' {
  import { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'

  export interface PeerInfo {
    publicKey: Buffer
    topics: Buffer[]
    client: boolean
    ban (banStatus?: boolean): void
  }

  export interface Discovery {
    flushed (): Promise<void>
    refresh (opts?: { client?: boolean, server?: boolean }): Promise<void>
    destroy (): Promise<void>
  }

  export interface SwarmConnection extends Duplex {
    remotePublicKey: Buffer
    publicKey: Buffer
    /** Bytes received from the peer on the underlying stream (@hyperswarm/secret-stream). */
    rawBytesRead: number
    rawStream?: { remoteHost: string, remotePort: number }
  }

  export default class Hyperswarm extends EventEmitter {
    constructor (opts?: { keyPair?: unknown, seed?: Uint8Array, bootstrap?: unknown, dht?: unknown, maxPeers?: number, firewall?: (remotePublicKey: Buffer) => boolean })
    readonly keyPair: { publicKey: Buffer, secretKey: Buffer }
    readonly connections: Set<SwarmConnection>
    readonly peers: Map<string, PeerInfo>
    readonly dht: unknown
    readonly destroyed: boolean
    join (topic: Uint8Array, opts?: { client?: boolean, server?: boolean }): Discovery
    joinPeer (publicKey: Uint8Array): void
    leavePeer (publicKey: Uint8Array): void
    leave (topic: Uint8Array): Promise<void>
    flush (): Promise<void>
    listen (): Promise<void>
    suspend (): Promise<void>
    resume (): Promise<void>
    destroy (opts?: { force?: boolean }): Promise<void>
    on (event: 'connection', listener: (conn: SwarmConnection, info: PeerInfo) => void): this
    on (event: 'update', listener: () => void): this
    on (event: string, listener: (...args: never[]) => void): this
  }
}

declare module 'hyperdht' {
  export default class DHT {
    constructor (opts?: Record<string, unknown>)
    ready (): Promise<void>
    destroy (): Promise<void>
    address (): { host: string, port: number }
    static bootstrapper (port: number, host: string, opts?: Record<string, unknown>): DHT
    static keyPair (seed?: Uint8Array): { publicKey: Buffer, secretKey: Buffer }
  }
}

declare module '@hyperswarm/testnet' {
  import type DHT from 'hyperdht'
  export interface Testnet {
    nodes: DHT[]
    bootstrap: Array<{ host: string, port: number }>
    createNode (opts?: Record<string, unknown>): DHT
    destroy (): Promise<void>
  }
  export default function createTestnet (size?: number, opts?: { host?: string, port?: number, teardown?: unknown, bootstrap?: unknown }): Promise<Testnet>
}

declare module 'compact-encoding' {
  export interface State { start: number, end: number, buffer: Buffer | null }
  export interface Encoding<T> {
    preencode (state: State, value: T): void
    encode (state: State, value: T): void
    decode (state: State): T
  }
  const c: {
    uint: Encoding<number>
    uint8: Encoding<number>
    uint16: Encoding<number>
    uint32: Encoding<number>
    uint64: Encoding<number>
    bool: Encoding<boolean>
    string: Encoding<string>
    utf8: Encoding<string>
    buffer: Encoding<Buffer | null>
    raw: Encoding<Buffer>
    fixed32: Encoding<Buffer>
    fixed64: Encoding<Buffer>
    json: Encoding<unknown>
    none: Encoding<null>
    array<T> (enc: Encoding<T>): Encoding<T[]>
    encode<T> (enc: Encoding<T>, value: T): Buffer
    decode<T> (enc: Encoding<T>, buf: Uint8Array): T
    state (start?: number, end?: number, buffer?: Buffer | null): State
  }
  export default c
}

declare module 'protomux' {
  export interface Message<T = unknown> { send (value: T): boolean }
  export interface Channel {
    open (handshake?: unknown): void
    close (): void
    addMessage<T = unknown> (opts: { encoding?: unknown, onmessage?: (value: T, channel: Channel) => void }): Message<T>
    readonly opened: boolean
    readonly closed: boolean
    userData: unknown
  }
  export default class Protomux {
    static from (stream: unknown, opts?: Record<string, unknown>): Protomux
    createChannel (opts: {
      protocol: string
      id?: Uint8Array | null
      handshake?: unknown
      userData?: unknown
      onopen?: (handshake: unknown, channel: Channel) => void
      onclose?: (isRemote: boolean, channel: Channel) => void
      ondestroy?: () => void
      unique?: boolean
    }): Channel | null
    pair (opts: { protocol: string, id?: Uint8Array | null }, notify: (id: Uint8Array | null) => void): void
    unpair (opts: { protocol: string, id?: Uint8Array | null }): void
  }
}
