/**
 * A real JPEG of about `targetBytes` (noise compresses badly, so the size is reached at modest
 * dimensions), made with sharp from the gpu-backend workspace.
 */
export async function makeJpeg(width: number, height: number, targetBytes: number): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  let quality = 90;
  for (;;) {
    const jpeg = await sharp({
      create: {
        width,
        height,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 50 },
      },
    })
      .jpeg({ quality })
      .toBuffer();
    if (jpeg.length >= targetBytes || quality >= 100) return jpeg;
    quality += 2;
  }
}
