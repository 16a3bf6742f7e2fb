/**
 * Moving bytes between the user's computer and drives, the right way for each mode:
 *  - Electron: importDropped (with the token of a drop, preload's takeDrop()) / pickAndImport /
 *    exportWithDialog / openFile (paths never pass through the page);
 *  - browser: upload sessions (beginUpload, one PUT per file, commitUpload or abortUpload) and
 *    one-time download URLs.
 */
import type { Job } from '../../../main/shared/contract.js'
import { DatdotError, reviveError } from '../../../main/shared/errors.js'
import type { Client } from './client-types.js'
import type { PickedFile } from './files.js'

export interface UploadProgress {
  (bytesSent: number, filesSent: number): void
}

async function errorFromResponse (res: Response): Promise<Error> {
  const text = await res.text().catch(() => '')
  try {
    const body = JSON.parse(text) as { code?: unknown, message?: unknown, error?: { code?: unknown, message?: unknown } }
    const e = body.error ?? body
    if (typeof e.code === 'string' && typeof e.message === 'string') return reviveError({ code: e.code as never, message: e.message })
  } catch { /* not JSON */ }
  if (res.status === 401) return DatdotError.unauthorized()
  if (res.status === 403) return DatdotError.forbidden(text || 'refused by the engine')
  if (res.status === 507) return new DatdotError('DISK_FULL', text || 'The disk is full')
  return DatdotError.internal(`Upload failed (HTTP ${res.status})${text ? ': ' + text.slice(0, 200) : ''}`)
}

/** Where files go: a space (id; undefined for the home space) and a folder of it. */
export interface Destination {
  space?: string
  dest: string
}

/** Uploads files into a folder of a space; all of them appear at once, or none. */
export async function uploadFiles (client: Client, files: PickedFile[], to: Destination, onJob: (job: Job) => void, onProgress?: UploadProgress): Promise<Job> {
  if (client.kind !== 'browser') throw DatdotError.forbidden('uploads are for the browser UI')
  // The job knows what is coming from the start: its bar counts the bytes the engine has
  // received against the whole upload (not against what arrived so far).
  const bytes = files.reduce((n, f) => n + f.file.size, 0)
  const { uploadId, job } = await client.call('beginUpload', { space: to.space, dest: to.dest, files: files.length, bytes })
  onJob(job)
  let sent = 0
  let count = 0
  try {
    for (const f of files) {
      const res = await fetch(`/api/upload/${encodeURIComponent(uploadId)}?path=${encodeURIComponent(f.relativePath)}`, {
        method: 'PUT',
        headers: { Authorization: 'Bearer ' + (client.token ?? ''), 'Content-Type': 'application/octet-stream' },
        body: f.file,
        credentials: 'omit',
        cache: 'no-store'
      })
      if (!res.ok) throw await errorFromResponse(res)
      sent += f.file.size
      count++
      onProgress?.(sent, count)
    }
    const done = await client.call('commitUpload', { uploadId })
    onJob(done)
    return done
  } catch (err) {
    await client.call('abortUpload', { uploadId }).catch(() => { /* the session may already be gone */ })
    throw err
  }
}

/** Imports dropped or picked files into a folder of a space (browser: uploads their bytes). */
export async function importFiles (client: Client, files: PickedFile[], to: Destination, onJob: (job: Job) => void): Promise<Job> {
  if (client.kind === 'electron') {
    // The desktop app imports by path in main: pickAndImport, or importDrop below.
    throw DatdotError.invalidArgument('In the desktop app, add files with the Add buttons or by dropping them on the window')
  }
  return await uploadFiles(client, files, to, onJob)
}

/** Electron: imports the drop whose token preload's takeDrop() gave into a folder of a space. */
export async function importDrop (client: Client, drop: string, to: Destination, onJob: (job: Job) => void): Promise<Job> {
  const job = await client.call('importDropped', { drop, space: to.space, dest: to.dest })
  onJob(job)
  return job
}

export interface FileRef {
  drive?: string
  path: string
  version?: number
}

function refArgs (ref: FileRef): { drive?: string, path: string, version?: number } {
  const args: { drive?: string, path: string, version?: number } = { path: ref.path }
  if (ref.drive !== undefined) args.drive = ref.drive
  if (ref.version !== undefined) args.version = ref.version
  return args
}

/** Browser: downloads a file through a one-time URL. Electron: asks where to export it. */
export async function downloadFile (client: Client, ref: FileRef, name: string, onJob: (job: Job) => void): Promise<void> {
  if (client.kind === 'electron') {
    const job = await client.call('exportWithDialog', refArgs(ref))
    if (job) onJob(job)
    return
  }
  const { url } = await client.call('createDownloadUrl', refArgs(ref))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.rel = 'noopener'
  a.hidden = true
  document.body.appendChild(a)
  a.click()
  a.remove()
}

/** Electron only: opens a read-only copy with the system application. */
export async function openFile (client: Client, ref: FileRef): Promise<void> {
  if (client.kind !== 'electron') throw DatdotError.forbidden('opening files needs the desktop app')
  await client.call('openFile', refArgs(ref))
}

export async function copyText (client: Client, text: string): Promise<void> {
  if (client.kind === 'electron') {
    await client.call('copyText', { text })
    return
  }
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text)
    return
  }
  throw DatdotError.forbidden('the clipboard is not available here; select the link and copy it')
}
