package com.chatroom.pulse.dashboard;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("Browser tests without a browser")
class BrowserRequirementTest {

  @Test
  @DisplayName("are skipped on a developer's machine (CI unset, empty, false or 0)")
  void skippedOutsideCi() {
    for (String ci : new String[] {null, "", "false", "0"}) {
      assertThatThrownBy(() -> Browser.requireInstalled(false, ci)).as("CI=" + ci)
        .isInstanceOf(TestAbortedException.class).hasMessageContaining("browser tests skipped");
    }
  }

  @Test
  @DisplayName("fail where CI is set, so CI cannot pass with no browser test run")
  void failOnCi() {
    for (String ci : new String[] {"true", "1", "yes"}) {
      assertThatThrownBy(() -> Browser.requireInstalled(false, ci)).as("CI=" + ci)
        .isInstanceOf(AssertionFailedError.class).hasMessageContaining("CI=" + ci + " is set");
    }
  }

  @Test
  @DisplayName("run when the browser is installed, CI or not")
  void runWhenInstalled() {
    assertThatCode(() -> Browser.requireInstalled(true, "true")).doesNotThrowAnyException();
    assertThatCode(() -> Browser.requireInstalled(true, null)).doesNotThrowAnyException();
  }
}
