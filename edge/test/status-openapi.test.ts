import { findModel } from '@bgremove/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { backend, request } from './helpers';

interface Status {
  edge: {
    ok: boolean;
    default_model: string;
    models: { id: string; description: string; sha256: string; backend_ready: boolean }[];
  };
  backend: { reachable: boolean; ready: boolean; models: { id: string }[] | null };
}

describe('status and docs', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it('healthz is up whatever the backend does', async () => {
    await backend.setMode({ kind: 'down' });
    const res = await request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('status reports backend readiness and models (signed /v1/models)', async () => {
    const res = await request('/v1/status');
    const status = await res.json<Status>();
    expect(status.edge.default_model).toBe('isnet-general-use');
    expect(status.edge.models.map((m) => [m.id, m.backend_ready])).toEqual([
      ['isnet-general-use', true],
      ['isnet-general-use-quint8', true],
      ['u2netp', true],
    ]);
    // One line each, from the manifest, for the page's model picker.
    for (const model of status.edge.models) {
      expect(model.description).toBe(findModel(model.id)!.description);
      expect(model.description).toMatch(/^[^\n]{20,200}$/);
      expect(model.sha256).toBe(findModel(model.id)!.sha256);
    }
    expect(status.backend).toMatchObject({ reachable: true, ready: true });
    const models = (await backend.calls()).requests.find((r) => r.path === '/v1/models');
    expect(models?.signature).toBe('ok');
  });

  it('status says so when the backend is down', async () => {
    await backend.setMode({ kind: 'down' });
    const status = await (await request('/v1/status')).json<Status>();
    expect(status.backend).toMatchObject({ reachable: false, ready: false, models: null });
    expect(status.edge.models.every((m) => !m.backend_ready)).toBe(true);
  });

  it('openapi.json is generated from the shared zod schemas', async () => {
    const res = await request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<{
      openapi: string;
      paths: Record<
        string,
        Record<string, { parameters?: { name: string; in: string; schema: { enum?: string[] } }[] }>
      >;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/remove-background',
        '/v1/results/{key}',
        '/v1/lookup',
        '/healthz',
        '/v1/status',
      ]),
    );
    const params = doc.paths['/v1/remove-background']!.post!.parameters!;
    expect(params.map((p) => p.name).sort()).toEqual([
      'bg_color',
      'crop',
      'crop_margin',
      'format',
      'max_side',
      'model',
      'output',
      'position',
      'refine',
      'roi',
      'scale',
      'subject',
    ]);
    expect(params.find((p) => p.name === 'output')!.schema.enum).toEqual(['matte', 'cutout']);
    const lookup = doc.paths['/v1/lookup']!.get!.parameters!.map((p) => p.name);
    expect(lookup).toContain('sha256');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1.0/removebg',
        '/v1.0/account',
        '/admin/v1/keys',
        '/admin/v1/keys/{id}/usage',
      ]),
    );
  });
});
