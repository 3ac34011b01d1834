/**
 * An application's output document as a PDF: the application as the local
 * database holds it, its template (by service and decision), the signer and,
 * when the head signed XML, the QR codes carrying that signed XML. Anyone who
 * may view the application may have its document.
 */
import type Database from 'better-sqlite3';
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import { documentData, documentHtml, documentXml, type DocumentData } from '#core/documents/render.js';
import { kindForDecision, pickTemplate, type DocumentKind } from '#core/documents/template.js';
import { canView, forbidden, loadApplication, notFound, type Actor } from '../workflow/records.js';
import { ServiceError } from '../rpc.js';
import { documentCodes, type DocumentAssets } from './assets.js';
import type { PdfPrinter } from './pdf.js';

export interface DocumentsServiceOptions {
  sqlite: Database.Database;
  services: readonly ServiceDefinition[];
  assets: DocumentAssets;
  /** Made on first use (a browser is started only when a document is printed). */
  printer: () => PdfPrinter;
  /** Where a paper is checked by its number, printed under the codes. */
  checkAt?: string;
}

export interface RenderedDocument {
  data: DocumentData;
  /** The canonical XML of `data`. */
  xml: string;
  html: string;
  /** The signed XML the codes carry; null when the document is not signed with XMLDSig. */
  signedXml: string | null;
  fileName: string;
}

export const DEFAULT_CHECK_AT = 'qyzmet.kz/check';

export class DocumentsService {
  private readonly services: Map<string, ServiceDefinition>;
  private printerInstance: PdfPrinter | null = null;

  constructor(private readonly o: DocumentsServiceOptions) {
    this.services = new Map(o.services.map((s) => [s.code, s]));
  }

  /** The document of an application (its decision's kind unless `kind` says otherwise), ready to print. */
  async render(applicationId: string, actor: Actor, kind?: DocumentKind): Promise<RenderedDocument> {
    const { sqlite } = this.o;
    const read = sqlite.transaction(() => {
      const row = loadApplication(sqlite, applicationId);
      if (!row) throw notFound();
      if (!canView(sqlite, actor.id, row)) throw forbidden();
      const provider = sqlite
        .prepare('SELECT bin, name_kk AS kk, name_ru AS ru FROM providers WHERE id = ?')
        .get(row.providerId) as { bin: string; kk: string; ru: string } | undefined;
      const specialist = row.responsibleUserId
        ? ((sqlite.prepare('SELECT full_name AS name FROM users WHERE id = ?').get(row.responsibleUserId) as
            { name: string } | undefined) ?? null)
        : null;
      const signature = sqlite
        .prepare(
          `SELECT format, signed, signer_name AS signerName, signed_at AS signedAt FROM signatures
            WHERE application_id = ? ORDER BY signed_at DESC, rowid DESC LIMIT 1`,
        )
        .get(row.id) as { format: string; signed: Buffer; signerName: string; signedAt: number } | undefined;
      return { row, provider, specialist, signature };
    });
    const { row, provider, specialist, signature } = read();
    const service = this.services.get(row.serviceCode) ?? null;
    const template = pickTemplate(
      this.o.assets.templates.templates,
      row.serviceCode,
      kind ?? kindForDecision(row.decision),
    );
    if (!template) throw new ServiceError('notFound', 'errors.documents.noTemplate');
    const data = documentData({
      template,
      application: row,
      service,
      provider: provider ?? { bin: '', kk: row.providerId, ru: row.providerId },
      specialist: specialist?.name ?? null,
    });
    const signedXml = signature?.format === 'xmldsig' ? Buffer.from(signature.signed).toString('utf8') : null;
    const codes = signedXml ? await documentCodes(signedXml) : [];
    const html = documentHtml(data, {
      fonts: this.o.assets.fonts,
      signer: signature ? { name: signature.signerName, signedAt: signature.signedAt } : null,
      codes,
      checkAt: this.o.checkAt ?? DEFAULT_CHECK_AT,
    });
    const fileName = `${data.documentNumber.replace(/[^\p{L}\p{N}._-]+/gu, '_')}.pdf`;
    return { data, xml: documentXml(data), html, signedXml, fileName };
  }

  async pdf(applicationId: string, actor: Actor): Promise<{ fileName: string; pdf: Uint8Array }> {
    const doc = await this.render(applicationId, actor);
    this.printerInstance ??= this.o.printer();
    return { fileName: doc.fileName, pdf: await this.printerInstance.print(doc.html) };
  }

  async close(): Promise<void> {
    await this.printerInstance?.close();
    this.printerInstance = null;
  }
}
