// Offline lecture deck: keyboard navigation, narrated or looping clips, speaker notes.
"use strict";
(() => {
  const slides = Array.from(document.querySelectorAll("section.slide"));
  const counter = document.getElementById("counter");
  let current = -1;

  const videoOf = (slide) => slide.querySelector("video");
  const looping = (slide) => slide.dataset.mode === "loop";

  function play(video) {
    const started = video.play();
    // A refused play() (autoplay policy) leaves the play mark showing; nothing else to do.
    if (started) started.catch(() => {});
  }

  function indexFromHash() {
    const m = /^#(\d+)$/.exec(location.hash);
    return m ? Number(m[1]) - 1 : 0;
  }

  function show(i) {
    const next = Math.max(0, Math.min(slides.length - 1, i));
    if (next === current) return;
    if (current >= 0) videoOf(slides[current]).pause();
    current = next;
    // All but one hidden (the markup shows slide 1 first; a #n link may start elsewhere).
    slides.forEach((s, k) => {
      s.hidden = k !== current;
    });
    const slide = slides[current];
    const video = videoOf(slide);
    video.preload = "auto";
    if (looping(slide)) {
      video.muted = true;
      play(video);
    }
    if (current + 1 < slides.length) videoOf(slides[current + 1]).preload = "auto";
    counter.textContent = `${current + 1} / ${slides.length}`;
    if (location.hash !== `#${current + 1}`) location.replace(`#${current + 1}`);
  }

  function toggle() {
    const video = videoOf(slides[current]);
    if (video.paused || video.ended) {
      if (video.ended) video.currentTime = 0;
      play(video);
    } else {
      video.pause();
    }
  }

  function toggleNotes() {
    document.body.classList.toggle("notes-on");
  }

  for (const slide of slides) {
    const stage = slide.querySelector(".stage");
    const video = videoOf(slide);
    const bar = slide.querySelector(".bar span");
    const playing = (on) => stage.classList.toggle("playing", on);
    video.addEventListener("playing", () => playing(true));
    video.addEventListener("pause", () => playing(false));
    video.addEventListener("ended", () => playing(false));
    video.addEventListener("timeupdate", () => {
      const frac = video.duration > 0 ? video.currentTime / video.duration : 0;
      bar.style.width = `${(100 * frac).toFixed(2)}%`;
    });
    stage.addEventListener("click", toggle);
  }

  const keys = {
    ArrowRight: () => show(current + 1),
    ArrowDown: () => show(current + 1),
    PageDown: () => show(current + 1),
    " ": (e) => show(current + (e.shiftKey ? -1 : 1)),
    ArrowLeft: () => show(current - 1),
    ArrowUp: () => show(current - 1),
    PageUp: () => show(current - 1),
    Home: () => show(0),
    End: () => show(slides.length - 1),
    Enter: toggle,
    p: toggle,
    P: toggle,
    n: toggleNotes,
    N: toggleNotes,
  };

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const action = keys[e.key];
    if (!action) return;
    e.preventDefault();
    action(e);
  });

  document.getElementById("prev").addEventListener("click", (e) => {
    e.currentTarget.blur();
    show(current - 1);
  });
  document.getElementById("next").addEventListener("click", (e) => {
    e.currentTarget.blur();
    show(current + 1);
  });
  window.addEventListener("hashchange", () => show(indexFromHash()));
  show(indexFromHash());
})();
