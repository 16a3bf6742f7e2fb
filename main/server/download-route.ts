/**
 * GET /api/download/<ticket>: one file of a drive through a download ticket (main/engine/tickets.ts).
 *
 * It answers HTTP Range requests (206 with Content-Range, 416 past the end), so a browser's
 * <video> and <audio> play and seek, and it streams straight from the drive with the range's
 * byte offsets: of a followed drive, the blocks the range needs are fetched first (hypercore
 * serves what a read waits for first) and bytes go out as they arrive, never the whole file
 * first; the follow's own background download (mode 'all') goes on. A request that ends early
 * (a player that seeks) stops the read and its fetches.
 *
 * `?inline=1` shows the file in the browser (the UI's preview) instead of saving it. Every
 * answer but a PDF's carries a sandbox CSP, so nothing served here runs as a page of this
 * origin (an SVG or HTML opened directly), and pages that run as text are sent as text.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine } from '../engine/engine.js'
import { DatdotError } from '../shared/errors.js'
import { driveFor } from '../api/handlers-drives.js'
import { withView, statPath } from '../engine/drive-ops.js'
import { parseRange } from './http-range.js'
import { mediaType } from '../shared/media-types.js'

const SANDBOX_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
const PDF_CSP = "default-src 'none'; frame-ancestors 'self'"

/** The response headers of a file `name` of `size` bytes, shown inline or saved. */
function headersFor (name: string, size: number, inline: boolean): Record<string, string> {
  const type = mediaType(name)
  const pdf = type === 'application/pdf'
  return {
    'Content-Type': type,
    'Accept-Ranges': 'bytes',
    'Content-Disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(name)}`,
    'Content-Security-Policy': pdf && inline ? PDF_CSP : SANDBOX_CSP,
    // The preview shows a PDF in a frame of the UI; nothing else is ever framed.
    'X-Frame-Options': pdf && inline ? 'SAMEORIGIN' : 'DENY',
    'Cache-Control': 'no-store'
  }
}

/** Serves the file a ticket names; NOT_FOUND when the ticket is unknown, used or expired. */
export async function serveDownload (engine: Engine, ticketId: string, req: IncomingMessage, res: ServerResponse, inline: boolean): Promise<void> {
  const rangeHeader = req.headers.range
  const ticket = engine.downloads.use(ticketId, rangeHeader !== undefined)
  if (!ticket) throw DatdotError.notFound('download (the link is used or expired)')
  const drive = await driveFor(engine, ticket.drive)
  await withView(drive, ticket.version, async (view) => {
    const entry = await statPath(view, ticket.path)
    if (entry.kind !== 'file') throw DatdotError.notAFile(ticket.path)
    const headers = headersFor(entry.name, entry.size, inline)
    const range = parseRange(rangeHeader, entry.size)
    if (range === 'unsatisfiable') {
      const text = JSON.stringify({ error: DatdotError.invalidArgument(`range ${String(rangeHeader)} is past the end of ${entry.name} (${entry.size} bytes)`).toJSON() })
      res.writeHead(416, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Range': `bytes */${entry.size}`, 'Content-Length': String(Buffer.byteLength(text)) })
      res.end(text)
      return
    }
    if (range === null) {
      res.writeHead(200, { ...headers, 'Content-Length': String(entry.size) })
    } else {
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${entry.size}`, 'Content-Length': String(range.end - range.start + 1) })
    }
    if (entry.size === 0) { res.end(); return }
    await pipeRead(view.createReadStream(entry.path, range ?? {}), res)
  })
}

/** Pipes a drive read into the response; a response closed early stops the read (and its fetches). */
async function pipeRead (stream: NodeJS.ReadableStream & { destroy: () => void }, res: ServerResponse): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = (): void => { stream.destroy(); resolve() }
    stream.on('error', () => { res.destroy(); resolve() })
    res.on('close', stop)
    stream.pipe(res)
  })
}
