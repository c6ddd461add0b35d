"""Every tunable of the kiosk, with its default, in one place.

Precedence, lowest to highest: these defaults, ``<db>/settings.json`` (written by the
settings dialog, which saves only what the user changed there), environment variables,
command-line flags (settings/file.py reads them). Engine classes take the same values as
constructor keywords whose defaults come from ``DEFAULTS`` below, so a number is written
down exactly once. Every value is checked against ``settings_file.LIMITS`` on the way in
(``coerce``), with a message that says which setting and what it accepts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Settings:
    # --- storage -------------------------------------------------------------------
    db_dir: Path = Path("faces_db")
    """Folder holding gallery.sqlite3, the derived Faiss index, settings and logs. With a
    shared PostgreSQL store it keeps this kiosk's own files (settings, log, index cache,
    check-in outbox): $FACE_KIOSK_HOME, default faces_db/."""
    db_url: str | None = None
    """postgresql://user@host:port/dbname: the shared store of several kiosks (given as
    --db or $FACE_KIOSK_DB); None keeps the SQLite file in db_dir."""
    kiosk_name: str = ""
    """Recorded with each check-in and visitor; empty means this computer's host name."""
    store_poll_seconds: float = 1.0
    """Shared store: how often changes are looked for when no notification came."""
    db_key: str | None = None
    """SQLCipher passphrase of the SQLite file ($FACE_KIOSK_KEY, --key-file, or typed in
    the window); never saved."""
    key_file: str | None = None
    """File holding the passphrase; must not be readable by group or others (chmod 600)."""

    # --- models --------------------------------------------------------------------
    model: str = "facenet"
    """Face model: 'facenet', 'reid', 'dlib', 'fusion' (facenet + dlib) or 'onnx:PATH'
    (desktop/engine/faces/embedders);
    a gallery made with another model is switched by `reembed --model`."""
    reid_weights: str | None = None
    """Folder with the reid model's FP16/face-reidentification-retail-0095.{xml,bin}; None
    downloads Intel's release-2022.1 files once into torch's cache."""
    dlib_alignment: str = "landmarks"
    """dlib's input: 'landmarks' (warp from MTCNN's points) or 'dlib' (its shape predictor)."""
    weights: str = "vggface2"
    """FaceNet weights: 'vggface2', 'casia-webface', or a path to a state_dict file."""
    facenet_backend: str = "onnxruntime"
    """'torch', or 'onnxruntime' (an ONNX copy exported once beside the weights; same
    vectors, about 2x faster per face on CPU under load, ``python main.py bench --only stages``)."""
    device: str = "auto"
    """'auto' picks CUDA when present, else CPU; or 'cpu', 'cuda:0'."""
    torch_threads: int = 0
    """Intra-op threads for torch and onnxruntime; 0 means one per CPU core (with passive
    waiting the best measured, quiet and beside a busy process: ``python main.py bench --only threads``)."""
    omp_wait_policy: str = "passive"
    """How idle OpenMP workers of torch wait: 'passive' (sleep: other programs and the
    window keep the CPU), 'active' (spin), or 'default' (libgomp's own: spin a while).
    Read before torch is imported; $OMP_WAIT_POLICY, if set, wins (core/threads.py)."""
    onnx_spinning: bool = False
    """Let onnxruntime's intra-op threads spin while waiting for work (its default: on)."""

    # --- liveness (presentation-attack detection; faces/antispoof.py, decisions/challenge.py) -------------
    liveness: str = "off"
    """'off', 'passive' (MiniFASNet on the face), 'challenge' (turn the head), or 'both'."""
    liveness_threshold: float = 0.5
    """A face is live when the averaged MiniFASNet P(real) reaches this."""
    liveness_at_registration: bool = True
    liveness_at_checkin: bool = True
    antispoof_weights: str | None = None
    """Folder with the two MiniFASNet files; None downloads them once into torch's cache."""
    challenge_yaw: float = 0.35
    """Head-turn challenge: change of the nose offset (see challenge.py) to reach."""
    camera_mirrored: bool = False
    """The camera delivers a mirrored picture (some webcams do): flips the measured turn,
    so "turn to your left" keeps meaning the person's own left."""
    challenge_frames: int = 3
    """Frames that must hold the turned pose."""
    challenge_seconds: float = 6.0
    """Time to complete the turn."""

    # --- detection -----------------------------------------------------------------
    min_face_size: int = 40
    """Smallest face (pixels, after downscaling) MTCNN looks for; larger is faster."""
    det_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    """MTCNN P-, R-, O-net thresholds."""
    min_det_prob: float = 0.90
    """Faces below this detection probability are dropped (MTCNN's O-net emits some junk)."""
    detect_max_side: int = 1024
    """Photos larger than this are downscaled for detection; boxes are mapped back."""
    detect_pad: float = 0.4
    """When no face is found in a photo, look again on a copy framed in grey by this share
    of its longer side: a face that fills the photo (an ID or badge picture) is then found.
    0 turns the retry off; the live loop never uses it."""
    live_detect_max_side: int = 640
    """Same, for live frames (a desk camera: faces are large, frames must be fast)."""
    detector: str = "mtcnn"
    """Face detector for photos (enrollment, identify, evaluate): 'mtcnn', or 'yunet'
    (OpenCV's YuNet proposes, MTCNN's O-net confirms: engine/yunet.py)."""
    live_detector: str = "yunet"
    """Face detector for the live loop: 'yunet' (faster, same `evaluate` figures; MTCNN
    when the YuNet file is missing), 'mtcnn', or 'same' as ``detector``."""
    yunet_points_only: bool = False
    """reid in the live loop takes YuNet's own five points and skips MTCNN's refinement.
    Off: YuNet alone scores faces under ~60 px below the quality gate, so the bench's
    7-face group clip labelled 9 of 21 faces this way, against 21 of 21 with MTCNN."""

    # --- crops ---------------------------------------------------------------------
    crop_size: int = 160
    crop_margin: int = 32
    """Margin in pixels of the 160x160 crop, as FaceNet was trained (Sandberg's MTCNN crops)."""

    # --- open-set decision ---------------------------------------------------------
    threshold: float | None = None
    """Cosine similarity needed for a match; None uses the value stored with the database."""
    match_margin: float = 0.03
    """A match must beat the best *other* person by this much, or it is 'unknown'."""
    duplicate_threshold: float | None = None
    """Enrollment warns (and ``strict`` refuses) when the new faces match another person's
    template this well; None uses the model's strict default (about 0.1% FPIR on LFW)."""
    match_rule: str = "template"
    """'template' scores each person by the normalised mean of their samples;
    'best_sample' by their single most similar sample (``python main.py evaluate``)."""
    outlier_threshold: float | None = None
    """A new sample less similar than this to the person's other samples is flagged as a
    probable wrong photo and kept out of the template; None = the model's default."""

    # --- quality gate -------------------------------------------------------------
    quality_min_face: int = 40
    """Faces whose shorter box side (pixels of the photo) is below this are 'unknown: low
    quality' and refused at enrollment; 0 disables this test."""
    quality_min_sharpness: float = 10.0
    """Same, for the variance of the Laplacian of the 160x160 crop; 0 disables it."""
    quality_min_det_prob: float = 0.95
    """Same, for MTCNN's probability; 0 disables it (min_det_prob still drops junk)."""

    # --- evaluation ------------------------------------------------------------------
    cache_dir: Path = Path("~/.cache/face-kiosk")
    """Where ``evaluate`` caches detections and embeddings (by file hash and model)."""

    subject_area_ratio: float = 2.0
    """A photo (or camera picture) is of one person if its largest face is at least this
    many times the area of the next: a small bystander is fine, two similar faces are not."""

    # --- gallery index -------------------------------------------------------------
    index_exact_below: int = 10_000
    """Below this many samples an exact flat index; above, HNSW (bench: scale table)."""
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 256
    """HNSW search breadth: recall@1 >= 0.997 up to 1M samples (bench: scale table)."""

    # --- registering from the camera -------------------------------------------------
    register_samples: int = 5
    register_min_face_px: float = 80.0
    """Face box width in frame pixels: smaller faces give blurry, upscaled crops."""
    register_min_sharpness: float = 15.0
    """Variance of the Laplacian of the 160x160 crop (camera faces: 20-400; blur: < 12)."""
    register_min_frontalness: float = 0.5
    register_min_interval: float = 0.6
    """Seconds between samples, so they are not all the same instant."""
    register_max_similarity: float | None = None
    """A camera sample at least this similar (cosine) to one already taken is skipped and
    the person is asked to turn a little, so the pictures differ in pose. None: 70% of the
    way from the model's recognition threshold to 1 (0.895 for CASIA FaceNet, where
    frames 0.1 s apart of one face in ../shared/faces/video score 0.70-0.97)."""

    # --- live loop -----------------------------------------------------------------
    source: str = "0"
    """Camera index, video file, folder of images, or stream URL."""
    loop_video: bool = True
    slideshow_seconds: float = 1.5
    confirm_frames: int = 2
    """Attendance is recorded only after this many consistent frames; a label is shown
    after them too, or at once when decisive (``instant_decisions``)."""
    instant_decisions: bool = True
    """Show a face's first decision at once when it is decisive (a name at the model's
    FPIR 0.1% level, or clearly nobody: engine/matching.py ``decisive``); the next frames
    still vote and correct it. Off: every label waits for ``confirm_frames``."""
    recheck_seconds: float = 1.0
    """A tracked, already recognised face is re-embedded this often, not every frame."""
    track_iou: float = 0.3
    track_max_missed: int = 5
    track_min_appearance: float = 0.9
    """A tracked face whose 16 px colour thumbnail of the inner face correlates less than
    this with the last frame's is re-embedded at once and kept on its track only if the
    embedding agrees (a hard cut to someone else at the same spot); engine/tracking.py.
    Different people reach at most 0.87, a still face ~1, a moving one 0.4-1."""
    reconnect_max_seconds: float = 10.0
    motion_gating: bool = True
    """Detect at full rate only while the picture changes or a face is tracked; otherwise
    ``idle_detect_fps`` frames a second (engine/motion.py)."""
    idle_detect_fps: float = 2.0
    motion_pixel_delta: float = 12.0
    """Grey levels a pixel of the 96 px thumbnail must move by to count as changed."""
    motion_min_area: float = 0.004
    """Share of the thumbnail that must change to count as motion (0.4%: ~28 pixels)."""
    motion_hold_seconds: float = 1.0
    """Full rate goes on this long after the last motion."""

    # --- attendance ----------------------------------------------------------------
    cooldown_minutes: float = 10.0
    retention_days: int = 0
    """Attendance older than this is removed; 0 keeps it for ever."""
    store_checkin_snapshots: bool = False
    store_visitor_snapshots: bool = False
    delete_attendance_with_person: bool = True
    visitor_ids: bool = False
    """Give each unknown face an anonymous id (``v-7f3a``) so a returning stranger is one
    visitor: keeps a face template of each stranger for ``visitor_memory_hours``, in memory
    or in the encrypted store only, never with a name ($FACE_KIOSK_VISITOR_IDS=on).
    Off by default: a site may need to post a notice before turning it on."""
    visitor_memory_hours: float = 24.0
    """A visitor's template is forgotten this long after they were first seen."""
    visitor_threshold: float | None = None
    """Similarity at which an unknown face is the same visitor; None: the model's own
    (engine/matching.py ``ModelDefaults.visitor``, measured by tools/visitor_rates.py)."""
    appearance_gap_seconds: float = 5.0
    """Without visitor ids: a new unknown face where a counted one was lost this recently
    is the same appearance (one person standing in view is one visit)."""
    retention_people_days: int = 0
    """People not seen (nor enrolled) for this many days are deleted; 0 keeps them."""
    retention_interval_hours: float = 6.0
    """While the window or the HTTP service runs, retention runs this often (and at start)."""

    # --- privacy -------------------------------------------------------------------
    require_consent: str = "window"
    """Refuse enrollment without recorded consent: 'always', 'window' (only in the kiosk
    window, where a person stands in front of it) or 'never'."""
    consent_text: str = ("I agree that this kiosk stores my face template and photos to "
                         "recognise me at reception and records when I check in. I can ask "
                         "for a copy or for their deletion at any time.")
    """What the person is shown and agrees to; stored with each consent."""
    keep_face_crops: bool = True
    """False keeps only embeddings (no face photos): smaller exposure, but `reembed` after a
    model change becomes impossible and those people must enroll again."""

    # --- HTTP service --------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    api_token: str | None = None
    max_upload_mb: float = 10.0
    max_queued_requests: int = 8
    """Photo requests waiting for or in model work; beyond this the service answers 503
    with Retry-After at once (a burst cannot build a queue of minutes)."""
    auth_failures_per_minute: int = 10
    """Failed token checks allowed per client address and minute; then 429."""
    cors_origins: tuple[str, ...] = ()
    """Web origins (https://host:port) allowed to call the service from a browser; none by
    default, and every other browser cross-site request is refused."""

    extra: dict[str, Any] = field(default_factory=dict)
    """Unknown keys from settings.json, kept so a newer file is not truncated."""

    @property
    def db_path(self) -> Path:
        return self.db_dir / "gallery.sqlite3"

    @property
    def log_path(self) -> Path:
        return self.db_dir / "kiosk.log"

    # ------------------------------------------------------------------------------
    def save(self, changes: dict[str, Any] | None = None) -> None:
        """Write settings.json atomically.

        With ``changes`` (what a user changed in the settings dialog) only those keys are
        merged into the file, so one-off overrides (``--weights``, ``--source``,
        ``FACENET_WEIGHTS``) are never saved for ever. Without, every persistable field
        is written (a full snapshot, e.g. for a child process). Secrets (the API token,
        the database key) are never written.
        """
        from desktop.engine.settings.saved import save_settings
        save_settings(self, changes)


DEFAULTS = Settings()
