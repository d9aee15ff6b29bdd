// The 3D preview of an uploaded CAD part on the match result (issue 22). The mesh comes from the server in the
// figure's data-mesh attribute (base64 of maas_kg/cad/preview.py's binary: "MKGP", uint32 vertex and triangle
// counts, float32 x y z per vertex in mm, uint32 indices per triangle); three.js is the npm package the application
// serves itself (api/vendor, /vendor/three/...). Drawn on demand (after a change of the view), not in a loop.
// Sets data-rendered="true" on the figure after the first frame ("false" and a notice where WebGL is missing).
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const figure = document.getElementById('cad-preview');
if (figure) {
  try {
    draw(figure);
  } catch (error) {
    figure.querySelector('#cad-no-webgl').hidden = false;
    figure.dataset.rendered = 'false';
    console.warn('CAD preview:', error);
  }
}

function decode(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'MKGP') throw new Error('not a preview mesh');
  const vertices = view.getUint32(4, true), triangles = view.getUint32(8, true);
  return {
    positions: new Float32Array(bytes.buffer, 12, vertices * 3),
    indices: new Uint32Array(bytes.buffer, 12 + vertices * 12, triangles * 3),
  };
}

function draw(figure) {
  const canvas = figure.querySelector('canvas');
  const { positions, indices } = decode(figure.dataset.mesh);
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
  geometry.setIndex(new THREE.BufferAttribute(indices, 1));
  geometry.computeBoundingBox();
  geometry.computeBoundingSphere();
  const box = geometry.boundingBox;
  const size = box.getSize(new THREE.Vector3());
  const centre = box.getCenter(new THREE.Vector3());
  const radius = Math.max(geometry.boundingSphere.radius, 1e-3);

  const renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setClearColor(0xf6f8fa);

  const scene = new THREE.Scene();
  const material = new THREE.MeshStandardMaterial({
    color: 0x8aa4bf, metalness: 0.15, roughness: 0.65, flatShading: true, side: THREE.DoubleSide,
    polygonOffset: true, polygonOffsetFactor: 1, polygonOffsetUnits: 1,
  });
  scene.add(new THREE.Mesh(geometry, material));
  // feature edges (faces meeting at more than 25 degrees) make the part readable in a flat colour
  scene.add(new THREE.LineSegments(new THREE.EdgesGeometry(geometry, 25),
                                   new THREE.LineBasicMaterial({ color: 0x27394d })));
  scene.add(new THREE.Box3Helper(box, 0xd9480f));
  const axes = new THREE.AxesHelper(Math.max(size.x, size.y, size.z) * 0.35 || 1);
  axes.position.copy(box.min);
  scene.add(axes);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x5a6470, 1.6));

  const camera = new THREE.PerspectiveCamera(35, 1, radius / 100, radius * 100);
  camera.up.set(0, 0, 1);  // CAD parts stand on z
  const light = new THREE.DirectionalLight(0xffffff, 1.8);
  light.position.set(1, 1, 2);
  camera.add(light);
  scene.add(camera);

  const controls = new OrbitControls(camera, canvas);
  controls.target.copy(centre);
  const home = () => {
    // the part's bounding sphere fits the narrower of the two fields of view (a phone's canvas is taller than wide)
    const aspect = canvas.clientWidth / Math.max(canvas.clientHeight, 1);
    const half = THREE.MathUtils.degToRad(camera.fov / 2);
    const narrower = Math.min(half, Math.atan(Math.tan(half) * aspect));
    const distance = radius / Math.sin(narrower) * 1.1;  // the whole sphere and a margin: a long shaft stays in view
    camera.position.copy(centre).add(new THREE.Vector3(1, -1.3, 0.9).normalize().multiplyScalar(distance));
    controls.target.copy(centre);
    controls.update();
  };

  const render = () => {
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (canvas.width !== Math.floor(width * renderer.getPixelRatio()) ||
        canvas.height !== Math.floor(height * renderer.getPixelRatio())) {
      renderer.setSize(width, height, false);
      camera.aspect = width / Math.max(height, 1);
      camera.updateProjectionMatrix();
    }
    renderer.render(scene, camera);
  };
  controls.addEventListener('change', render);
  new ResizeObserver(render).observe(canvas);
  const reset = document.getElementById('cad-reset');
  if (reset) reset.addEventListener('click', () => { home(); render(); });
  home();
  render();
  figure.dataset.rendered = 'true';
}
